import { describe, expect, it } from "vitest";
import { fnv1_64Hex, scheduledRunName, scheduledRunNameInput } from "../../src/scheduler/run-name.js";

/** FNV-1 (not 1a), 64 bits, written independently with BigInt: multiply by the prime, then xor the byte. */
function referenceFnv1(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
    h ^= BigInt(byte);
  }
  return h;
}

const referenceName = (text: string) => `r${referenceFnv1(text).toString(16)}`;

const TRIGGER = { project: "proj", domain: "dev", taskName: "my_env.my_task", name: "nightly" };

describe("scheduled run names", () => {
  it("hash the published FNV-1 64 test vectors", () => {
    // Test vectors of the FNV reference (Noll): FNV-1 64 of "", "a", "foobar".
    expect(fnv1_64Hex(new Uint8Array())).toBe("cbf29ce484222325");
    expect(fnv1_64Hex(new TextEncoder().encode("a"))).toBe("af63bd4c8601b7be");
    expect(fnv1_64Hex(new TextEncoder().encode("foobar"))).toBe("340d8765a4dda9c2");
    // FNV-1a would give af63dc4c8601ec8c for "a": make sure it is not that variant.
    expect(fnv1_64Hex(new TextEncoder().encode("a"))).not.toBe("af63dc4c8601ec8c");
  });

  it("format project:domain:task:trigger:Y:M:D:h:m:s in UTC without padding", () => {
    expect(scheduledRunNameInput(TRIGGER, new Date("2026-03-04T05:06:07.890Z"))).toBe("proj:dev:my_env.my_task:nightly:2026:3:4:5:6:7");
    expect(scheduledRunNameInput(TRIGGER, new Date("2026-12-31T23:59:59Z"))).toBe("proj:dev:my_env.my_task:nightly:2026:12:31:23:59:59");
    // A slot given in another offset is the same instant: its UTC fields are used.
    expect(scheduledRunNameInput(TRIGGER, new Date("2026-07-01T09:00:00-07:00"))).toBe("proj:dev:my_env.my_task:nightly:2026:7:1:16:0:0");
  });

  it("pin known names (cross-checked by hand with an independent implementation of the reference's algorithm)", () => {
    // Computed outside this code base (Python: h = 14695981039346656037; for b: h = h * 1099511628211 % 2**64; h ^= b).
    expect(scheduledRunName(TRIGGER, new Date("2026-03-24T09:00:00Z"))).toBe("r5416a52ffc552ef4");
    expect(scheduledRunName({ project: "flytesnacks", domain: "development", taskName: "wf.hello", name: "every_minute" }, new Date("2026-01-01T00:05:00Z"))).toBe(
      "r1491957f9afefc69",
    );
  });

  it("agree with the BigInt reference for many slots and names, and ignore sub-second parts", () => {
    const names = [TRIGGER, { project: "p", domain: "d", taskName: "t", name: "ü-trigger" }, { project: "a:b", domain: "", taskName: "x", name: "y" }];
    let t = Date.UTC(2025, 0, 1);
    for (let i = 0; i < 500; i++) {
      t += 37_000_123 + i * 7919;
      const slot = new Date(t);
      for (const n of names) {
        expect(scheduledRunName(n, slot)).toBe(referenceName(scheduledRunNameInput(n, slot)));
      }
    }
    expect(scheduledRunName(TRIGGER, new Date("2026-03-24T09:00:00.999Z"))).toBe(scheduledRunName(TRIGGER, new Date("2026-03-24T09:00:00Z")));
  });

  it("drop leading zeros like Go's %x (names can be shorter than 17 characters)", () => {
    // Search a small space for a hash whose top nibble is 0, then check the rendering.
    let found: string | undefined;
    for (let i = 0; i < 5000 && !found; i++) {
      const text = `proj:dev:task:t${i}:2026:1:1:0:0:0`;
      if (referenceFnv1(text) < 1n << 60n) found = text;
    }
    expect(found).toBeDefined();
    const hex = fnv1_64Hex(new TextEncoder().encode(found!));
    expect(hex).toBe(referenceFnv1(found!).toString(16));
    expect(hex.length).toBeLessThan(16);
  });
});

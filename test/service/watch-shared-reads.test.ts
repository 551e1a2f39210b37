// SharedReads on its own: one load per entity for every asker that saw the same change, never a stale answer.
import { describe, expect, it } from "vitest";
import { SharedReads } from "../../src/service/run-service/watch-shared-reads.js";

/** A load the test finishes by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("SharedReads", () => {
  it("askers that saw the same change share one load, in flight and after it finished", async () => {
    const reads = new SharedReads<string>();
    let loads = 0;
    const d = deferred<string>();
    const load = () => (loads++, d.promise);
    const seen = [reads.tick(), reads.tick(), reads.tick()];
    const answers = seen.map((t) => reads.get("k", t, load));
    d.resolve("v1");
    expect(await Promise.all(answers)).toEqual(["v1", "v1", "v1"]);
    expect(await reads.get("k", seen[2], load)).toBe("v1");
    expect(loads).toBe(1);
  });

  it("a change seen after a load started gets a new load, even while the old one is in flight", async () => {
    const reads = new SharedReads<string>();
    const old = deferred<string>();
    const first = reads.get("k", reads.tick(), () => old.promise);
    const later = reads.tick();
    const second = reads.get("k", later, () => Promise.resolve("v2"));
    old.resolve("v1");
    expect(await first).toBe("v1");
    expect(await second).toBe("v2");
    // The newer load now answers everyone, including askers of the older change.
    expect(await reads.get("k", 0, () => Promise.resolve("unused"))).toBe("v2");
  });

  it("keys are independent", async () => {
    const reads = new SharedReads<string>();
    const t = reads.tick();
    expect(await reads.get("a", t, () => Promise.resolve("A"))).toBe("A");
    expect(await reads.get("b", t, () => Promise.resolve("B"))).toBe("B");
  });

  it("a failed load is not kept: the next asker loads again", async () => {
    const reads = new SharedReads<string>();
    const t = reads.tick();
    await expect(reads.get("k", t, () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    await Promise.resolve();
    expect(await reads.get("k", t, () => Promise.resolve("ok"))).toBe("ok");
    expect(reads.loads).toBe(2);
  });

  it("holds at most maxEntries, dropping the least recently used", async () => {
    const reads = new SharedReads<number>(3);
    const t = reads.tick();
    for (const k of ["a", "b", "c"]) await reads.get(k, t, () => Promise.resolve(1));
    await reads.get("a", t, () => Promise.resolve(2)); // touch a: b is now the oldest
    await reads.get("d", t, () => Promise.resolve(1));
    expect(reads.size).toBe(3);
    expect(reads.loads).toBe(4);
    await reads.get("a", t, () => Promise.resolve(9));
    expect(reads.loads).toBe(4); // a stayed
    await reads.get("b", t, () => Promise.resolve(9));
    expect(reads.loads).toBe(5); // b was dropped
  });
});

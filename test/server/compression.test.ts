import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gzipLevel1 } from "../../src/server/compression.js";

describe("gzipLevel1", () => {
  it("answers gzip any client decodes, on the loop for small messages and the threadpool for big ones", async () => {
    for (const size of [0, 10, 5_000, 300_000]) {
      const input = new TextEncoder().encode("flytesnacks/development/run/action ".repeat(size / 35 + 1).slice(0, size));
      const packed = await gzipLevel1.compress(input);
      expect(packed[0]).toBe(0x1f);
      expect(packed[1]).toBe(0x8b);
      expect(new Uint8Array(gunzipSync(packed))).toEqual(input);
      if (size >= 5_000) expect(packed.byteLength).toBeLessThan(size / 4);
    }
  });

  it("decompresses requests with connect-node's limits", async () => {
    const packed = await gzipLevel1.compress(new Uint8Array(2_000));
    expect((await gzipLevel1.decompress(packed, 4_000)).byteLength).toBe(2_000);
    await expect(gzipLevel1.decompress(packed, 1_000)).rejects.toThrow(/1000/);
  });
});

import { describe, expect, it } from "vitest";
import {
  BlobNotFoundError,
  BlobTooLargeError,
  MiB,
  createBlobStore,
  createMemoryBlobStore,
} from "../../src/storage/index.js";
import { bytes, quietLogger, storageConfig, text } from "./helpers.js";

describe("memory blob store", () => {
  it("round-trips, overwrites and reports existence by exact URI", async () => {
    const store = createMemoryBlobStore();
    const uri = "s3://flyte-data/p/d/r/inputs/inputs.pb";
    expect(await store.exists(uri)).toBe(false);
    await store.write(uri, bytes("one"));
    await store.write(uri, bytes("two"));
    expect(text(await store.read(uri))).toBe("two");
    expect(await store.exists(uri)).toBe(true);
    expect(await store.exists(`${uri}/`)).toBe(false);
    expect(store.keys()).toEqual([uri]);
    store.clear();
    expect(await store.exists(uri)).toBe(false);
  });

  it("copies data in and out", async () => {
    const store = createMemoryBlobStore();
    const input = Buffer.from("abc");
    await store.write("mem://x", input);
    input[0] = 0x7a;
    const out = await store.read("mem://x");
    out[1] = 0x7a;
    expect(text(await store.read("mem://x"))).toBe("abc");
  });

  it("throws BlobNotFoundError for a missing object", async () => {
    const error = await createMemoryBlobStore().read("mem://missing").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobNotFoundError);
    expect((error as Error).message).toContain("mem://missing");
  });

  it("enforces its read limit", async () => {
    const store = createMemoryBlobStore({ maxBytes: 3 });
    await store.write("mem://x", bytes("four"));
    await expect(store.read("mem://x")).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(text(await store.read("mem://x", { maxBytes: 4 }))).toBe("four");
  });

  it("is what storage.type mem selects, for every scheme, with the configured limit", async () => {
    const store = createBlobStore(storageConfig({ type: "mem" }), { logger: quietLogger });
    await store.write("s3://bucket/key", bytes("s3"));
    await store.write("file:///nowhere/on/disk.pb", bytes("file"));
    expect(text(await store.read("s3://bucket/key"))).toBe("s3");
    expect(text(await store.read("file:///nowhere/on/disk.pb"))).toBe("file");
    await store.write("mem://big", new Uint8Array(2 * MiB + 1));
    await expect(store.read("mem://big")).rejects.toBeInstanceOf(BlobTooLargeError);
    store.close();
  });
});

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BlobNotFoundError,
  BlobStoreError,
  BlobTooLargeError,
  InvalidBlobUriError,
  MiB,
  createBlobStore,
  createFileBlobStore,
  filePathFromUri,
  type BlobStore,
} from "../../src/storage/index.js";
import { bytes, quietLogger, storageConfig, tempDir, text } from "./helpers.js";

describe("file:// blob store", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: BlobStore;
  let prefix: string;

  beforeEach(() => {
    tmp = tempDir();
    prefix = `file://${tmp.dir}`;
    // The default config (storage.type s3, no endpoint): file:// works regardless.
    store = createBlobStore(storageConfig(), { logger: quietLogger });
  });
  afterEach(() => tmp.remove());

  it("writes and reads back an object, creating nested folders", async () => {
    const uri = `${prefix}/flytesnacks/development/r1/inputs/inputs.pb`;
    expect(await store.exists(uri)).toBe(false);
    await store.write(uri, bytes("hello"));

    expect(text(await store.read(uri))).toBe("hello");
    expect(await store.exists(uri)).toBe(true);
    expect(readFileSync(join(tmp.dir, "flytesnacks/development/r1/inputs/inputs.pb"), "utf8")).toBe("hello");
  });

  it("returns a plain Uint8Array", async () => {
    const uri = `${prefix}/a.pb`;
    await store.write(uri, new Uint8Array([0, 1, 2, 255]));
    const data = await store.read(uri);
    expect(data).toBeInstanceOf(Uint8Array);
    expect([...data]).toEqual([0, 1, 2, 255]);
  });

  it("accepts plain absolute paths and file://localhost/", async () => {
    const path = join(tmp.dir, "plain", "x.pb");
    await store.write(path, bytes("plain"));
    expect(text(await store.read(`file://localhost${path}`))).toBe("plain");
    expect(text(await store.read(`file://${path}`))).toBe("plain");
  });

  it("writeNew writes a new object in place, creating folders, and never replaces one (false)", async () => {
    const uri = `${prefix}/flytesnacks/development/r2/inputs/inputs.pb`;
    expect(await store.writeNew!(uri, bytes("first"))).toBe(true);
    expect(await store.writeNew!(uri, bytes("second"))).toBe(false);
    expect(text(await store.read(uri))).toBe("first");
    expect(readdirSync(join(tmp.dir, "flytesnacks/development/r2/inputs"))).toEqual(["inputs.pb"]);
    const direct = createFileBlobStore();
    expect(await direct.writeNew!(uri, bytes("third"))).toBe(false);
    expect(await direct.writeNew!(`${prefix}/other/inputs.pb`, bytes("x"))).toBe(true);
    expect(text(await direct.read(`${prefix}/other/inputs.pb`))).toBe("x");
    // A new run's folder and its inputs folder under an existing domain folder.
    expect(await store.writeNew!(`${prefix}/flytesnacks/development/r3/inputs/inputs.pb`, bytes("r3"))).toBe(true);
    expect(text(await store.read(`${prefix}/flytesnacks/development/r3/inputs/inputs.pb`))).toBe("r3");
  });

  it("overwrites atomically and leaves no temp files behind", async () => {
    const uri = `${prefix}/run/inputs/inputs.pb`;
    await store.write(uri, bytes("first, longer content"));
    await store.write(uri, bytes("second"));
    expect(text(await store.read(uri))).toBe("second");
    expect(readdirSync(join(tmp.dir, "run/inputs"))).toEqual(["inputs.pb"]);
  });

  it("keeps one complete version under concurrent writes", async () => {
    const uri = `${prefix}/race/obj.pb`;
    const versions = Array.from({ length: 20 }, (_, i) => bytes(`version-${i}-`.repeat(1000)));
    await Promise.all(versions.map((v) => store.write(uri, v)));
    const final = text(await store.read(uri));
    expect(versions.map(text)).toContain(final);
    expect(readdirSync(join(tmp.dir, "race"))).toEqual(["obj.pb"]);
  });

  it("writes an empty object", async () => {
    const uri = `${prefix}/empty.pb`;
    await store.write(uri, new Uint8Array());
    expect((await store.read(uri)).byteLength).toBe(0);
    expect(await store.exists(uri)).toBe(true);
  });

  it("throws BlobNotFoundError for a missing object", async () => {
    const uri = `${prefix}/nope/inputs.pb`;
    const error = await store.read(uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobNotFoundError);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect(error).toBeInstanceOf(Error);
    expect((error as BlobNotFoundError).uri).toBe(uri);
    expect((error as Error).message).toContain(uri);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  it("treats a path under a file, or a folder, as missing", async () => {
    writeFileSync(join(tmp.dir, "afile"), "x");
    mkdirSync(join(tmp.dir, "afolder"));
    await expect(store.read(`${prefix}/afile/child.pb`)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.exists(`${prefix}/afile/child.pb`)).toBe(false);
    await expect(store.read(`${prefix}/afolder`)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.exists(`${prefix}/afolder`)).toBe(false);
  });

  it("wraps other failures with the URI in the message and the original in cause", async () => {
    writeFileSync(join(tmp.dir, "blocker"), "x");
    const uri = `${prefix}/blocker/inputs/inputs.pb`;
    const error = await store.write(uri, bytes("data")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect(error).not.toBeInstanceOf(BlobNotFoundError);
    expect((error as Error).message).toContain(uri);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toMatch(/^(ENOTDIR|EEXIST)$/);

    mkdirSync(join(tmp.dir, "dir.pb"));
    const renameError = await store.write(`${prefix}/dir.pb`, bytes("data")).catch((e: unknown) => e);
    expect(renameError).toBeInstanceOf(BlobStoreError);
    expect((renameError as Error).message).toContain(`${prefix}/dir.pb`);
    expect(readdirSync(tmp.dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses paths that escape with '..'", async () => {
    mkdirSync(join(tmp.dir, "data"));
    const escapes = [
      `${prefix}/data/../outside.pb`,
      `${prefix}/data/p/d/../../../outside.pb`,
      `${prefix}/data/%2e%2e/outside.pb`,
      `${prefix}/data/%2E%2E/outside.pb`,
      `${prefix}/data/a%2F..%2F..%2Foutside.pb`,
      `${tmp.dir}/data/../outside.pb`,
    ];
    for (const uri of escapes) {
      await expect(store.write(uri, bytes("x")), uri).rejects.toBeInstanceOf(InvalidBlobUriError);
      await expect(store.read(uri), uri).rejects.toBeInstanceOf(InvalidBlobUriError);
      await expect(store.exists(uri), uri).rejects.toBeInstanceOf(InvalidBlobUriError);
    }
    expect(readdirSync(tmp.dir)).toEqual(["data"]);
  });

  it("refuses malformed file URIs", async () => {
    for (const uri of [
      "relative/path.pb",
      "file://otherhost/tmp/x.pb",
      `${prefix}/folder/`,
      "file://",
      `${prefix}/bad%zzescape.pb`,
      `${prefix}/nul%00byte.pb`,
    ]) {
      await expect(store.write(uri, bytes("x")), uri).rejects.toBeInstanceOf(InvalidBlobUriError);
    }
  });

  it("normalises '.' segments and repeated slashes", () => {
    expect(filePathFromUri("file:///tmp/./a//b/./c.pb")).toBe("/tmp/a/b/c.pb");
    expect(filePathFromUri("/tmp/a%20b/c.pb")).toBe("/tmp/a b/c.pb");
  });

  describe("read limit", () => {
    it("defaults to storage.limits.maxDownloadMBs and allows exactly the limit", async () => {
      const limited = createBlobStore(storageConfig({ limits: { maxDownloadMBs: 1 } }), { logger: quietLogger });
      await limited.write(`${prefix}/exact.pb`, new Uint8Array(MiB));
      await limited.write(`${prefix}/over.pb`, new Uint8Array(MiB + 1));

      expect((await limited.read(`${prefix}/exact.pb`)).byteLength).toBe(MiB);
      const error = await limited.read(`${prefix}/over.pb`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BlobTooLargeError);
      expect(error).toBeInstanceOf(BlobStoreError);
      expect((error as Error).message).toContain(`${prefix}/over.pb`);
      expect((error as Error).message).toContain("maxDownloadMBs");
      expect((error as BlobTooLargeError).size).toBe(MiB + 1);
      expect((error as BlobTooLargeError).limit).toBe(MiB);
    });

    it("uses the reference's 2 MB default", async () => {
      await store.write(`${prefix}/big.pb`, new Uint8Array(2 * MiB + 1));
      await expect(store.read(`${prefix}/big.pb`)).rejects.toBeInstanceOf(BlobTooLargeError);
    });

    it("lets a call set its own limit; 0 means none", async () => {
      await store.write(`${prefix}/ten.pb`, new Uint8Array(10));
      await store.write(`${prefix}/big.pb`, new Uint8Array(3 * MiB));
      expect((await store.read(`${prefix}/ten.pb`, { maxBytes: 10 })).byteLength).toBe(10);
      await expect(store.read(`${prefix}/ten.pb`, { maxBytes: 9 })).rejects.toBeInstanceOf(BlobTooLargeError);
      expect((await store.read(`${prefix}/big.pb`, { maxBytes: 0 })).byteLength).toBe(3 * MiB);
      expect((await store.read(`${prefix}/big.pb`, { maxBytes: Infinity })).byteLength).toBe(3 * MiB);
      await expect(store.read(`${prefix}/ten.pb`, { maxBytes: -1 })).rejects.toBeInstanceOf(RangeError);
    });

    it("maxDownloadMBs 0 turns the limit off", async () => {
      const unlimited = createBlobStore(storageConfig({ limits: { maxDownloadMBs: 0 } }), { logger: quietLogger });
      await unlimited.write(`${prefix}/big.pb`, new Uint8Array(3 * MiB));
      expect((await unlimited.read(`${prefix}/big.pb`)).byteLength).toBe(3 * MiB);
    });
  });

  describe("stow kind local", () => {
    it("resolves file://<container>/<key> under storage.stow.config.path", async () => {
      const local = createBlobStore(
        storageConfig({ type: "local", container: "flyte-data", stow: { kind: "local", config: { path: tmp.dir } } }),
        { logger: quietLogger },
      );
      await local.write("file://flyte-data/p/d/r/inputs/inputs.pb", bytes("local"));
      expect(readFileSync(join(tmp.dir, "flyte-data/p/d/r/inputs/inputs.pb"), "utf8")).toBe("local");
      expect(text(await local.read("file://flyte-data/p/d/r/inputs/inputs.pb"))).toBe("local");
      // Absolute file URIs still work.
      await local.write(`${prefix}/abs.pb`, bytes("abs"));
      expect(text(await local.read(`${prefix}/abs.pb`))).toBe("abs");
      await expect(local.write("file://../x.pb", bytes("x"))).rejects.toBeInstanceOf(InvalidBlobUriError);
    });

    it("needs storage.stow.config.path", () => {
      expect(() =>
        createBlobStore(storageConfig({ type: "local", stow: { kind: "local", config: { other: "x" } } }), {
          logger: quietLogger,
        }),
      ).toThrow(/storage\.stow\.config\.path/);
    });
  });

  it("createFileBlobStore can be used on its own", async () => {
    const files = createFileBlobStore({ maxBytes: 4 });
    await files.write(`${prefix}/own.pb`, bytes("12345"));
    await expect(files.read(`${prefix}/own.pb`)).rejects.toBeInstanceOf(BlobTooLargeError);
    await expect(files.write("s3://bucket/key", bytes("x"))).rejects.toBeInstanceOf(InvalidBlobUriError);
  });
});

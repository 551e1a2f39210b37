import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Config } from "../../src/config/index.js";
import {
  BlobNotFoundError,
  BlobStoreError,
  BlobTooLargeError,
  MiB,
  createBlobStore,
  type ClosableBlobStore,
} from "../../src/storage/index.js";
import { bytes, quietLogger, storageConfig, tempDir, text } from "./helpers.js";
import { startS3Server, type TestS3Server } from "./s3-server.js";

const BUCKET = "flyte-data";

describe("s3:// blob store against a local S3 server", () => {
  let server: TestS3Server;
  const stores: ClosableBlobStore[] = [];

  /** The shape of the reference's runs/config.yaml storage section, pointed at the test server. */
  function minioStyle(changes: Partial<Config["storage"]> = {}, stowChanges: Record<string, string> = {}) {
    return storageConfig({
      type: "minio",
      container: BUCKET,
      enableMulticontainer: false,
      stow: {
        kind: "s3",
        config: {
          auth_type: "accesskey",
          access_key_id: server.accessKeyId,
          secret_key: server.secretAccessKey,
          region: "us-east-1",
          endpoint: server.endpoint,
          disable_ssl: "true",
          ...stowChanges,
        },
      },
      ...changes,
    });
  }

  function open(config: Config["storage"]): ClosableBlobStore {
    const store = createBlobStore(config, { logger: quietLogger });
    stores.push(store);
    return store;
  }

  beforeAll(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
  });
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
    vi.unstubAllEnvs();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("writes and reads back an object, path-style, signed with the configured keys", async () => {
    const store = open(minioStyle());
    const uri = `s3://${BUCKET}/flytesnacks/development/r1/inputs/inputs.pb`;
    const before = server.requests.length;

    expect(await store.exists(uri)).toBe(false);
    await store.write(uri, bytes("inputs"));
    expect(await store.exists(uri)).toBe(true);
    expect(text(await store.read(uri))).toBe("inputs");

    const seen = server.requests.slice(before);
    expect(seen.map((r) => r.method)).toEqual(["HEAD", "PUT", "HEAD", "GET"]);
    for (const request of seen) {
      // Path-style: the bucket is the first path segment and the host is the endpoint's.
      expect(request.host).toBe(new URL(server.endpoint).host);
      expect(request.url.split("?")[0]).toBe(`/${BUCKET}/flytesnacks/development/r1/inputs/inputs.pb`);
      expect(request.authorization).toContain(`Credential=${server.accessKeyId}/`);
      expect(request.authorization).toContain("/us-east-1/s3/aws4_request");
    }
  });

  it("overwrites and round-trips binary data", async () => {
    const store = open(minioStyle());
    const uri = `s3://${BUCKET}/bin/obj.pb`;
    await store.write(uri, bytes("first version, longer"));
    const payload = new Uint8Array(256 * 1024).map((_, i) => (i * 31) % 256);
    await store.write(uri, payload);
    const back = await store.read(uri);
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(back).equals(Buffer.from(payload))).toBe(true);
  });

  it("throws BlobNotFoundError for a missing key", async () => {
    const store = open(minioStyle());
    const uri = `s3://${BUCKET}/missing/inputs.pb`;
    const error = await store.read(uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobNotFoundError);
    expect((error as Error).message).toContain(uri);
    expect(((error as Error).cause as Error).name).toBe("NoSuchKey");
    expect(await store.exists(uri)).toBe(false);
  });

  it("rejects wrong static credentials with a wrapped error, not 'not found'", async () => {
    const store = open(minioStyle({}, { secret_key: "wrong-secret" }));
    const uri = `s3://${BUCKET}/creds/inputs.pb`;
    const writeError = await store.write(uri, bytes("x")).catch((e: unknown) => e);
    expect(writeError).toBeInstanceOf(BlobStoreError);
    expect(writeError).not.toBeInstanceOf(BlobNotFoundError);
    expect((writeError as Error).message).toContain(uri);
    expect(((writeError as Error).cause as Error).name).toBe("SignatureDoesNotMatch");

    const unknownKey = open(minioStyle({}, { access_key_id: "nobody" }));
    const readError = await unknownKey.read(uri).catch((e: unknown) => e);
    expect(readError).toBeInstanceOf(BlobStoreError);
    expect(readError).not.toBeInstanceOf(BlobNotFoundError);
    expect(((readError as Error).cause as Error).name).toBe("InvalidAccessKeyId");
  });

  it("uses the default credential chain for auth_type iam", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", server.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", server.secretAccessKey);
    vi.stubEnv("AWS_SESSION_TOKEN", "");
    const store = open(minioStyle({}, { auth_type: "iam", access_key_id: "", secret_key: "" }));
    const uri = `s3://${BUCKET}/iam/inputs.pb`;
    const before = server.requests.length;
    await store.write(uri, bytes("from env"));
    expect(text(await store.read(uri))).toBe("from env");
    expect(server.requests[before].authorization).toContain(`Credential=${server.accessKeyId}/`);
  });

  it("honours the deprecated storage.connection block (host:port endpoint + disable-ssl)", async () => {
    const store = open(
      storageConfig({
        type: "minio",
        container: BUCKET,
        connection: {
          endpoint: new URL(server.endpoint).host,
          authType: "accesskey",
          accessKey: server.accessKeyId,
          secretKey: server.secretAccessKey,
          region: "us-east-1",
          disableSsl: true,
        },
      }),
    );
    const uri = `s3://${BUCKET}/legacy/inputs.pb`;
    await store.write(uri, bytes("legacy"));
    expect(text(await store.read(uri))).toBe("legacy");
  });

  it("enforces storage.limits.maxDownloadMBs and per-call limits", async () => {
    const store = open(minioStyle({ limits: { maxDownloadMBs: 1 } }));
    const exact = `s3://${BUCKET}/limits/exact.pb`;
    const over = `s3://${BUCKET}/limits/over.pb`;
    await store.write(exact, new Uint8Array(MiB));
    await store.write(over, new Uint8Array(MiB + 1));

    expect((await store.read(exact)).byteLength).toBe(MiB);
    const error = await store.read(over).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobTooLargeError);
    expect((error as Error).message).toContain(over);
    expect((await store.read(over, { maxBytes: 0 })).byteLength).toBe(MiB + 1);
    await expect(store.read(exact, { maxBytes: 1000 })).rejects.toBeInstanceOf(BlobTooLargeError);
  });

  it("with multi-container on, reads other buckets and creates a missing bucket on write", async () => {
    // A second server: s3rver mis-signs bucket-level calls (see startS3Server), so
    // this one accepts mismatched signatures; the key id must still be known to it.
    const lenient = await startS3Server({ buckets: [BUCKET], allowMismatchedSignatures: true });
    try {
      const store = open(minioStyle({ enableMulticontainer: true }, { endpoint: lenient.endpoint, access_key_id: lenient.accessKeyId, secret_key: lenient.secretAccessKey }));
      const uri = "s3://fresh-bucket/p/d/r/inputs/inputs.pb";
      expect(await store.exists(uri)).toBe(false);
      await expect(store.read(uri)).rejects.toBeInstanceOf(BlobNotFoundError);
      await store.write(uri, bytes("new bucket"));
      expect(text(await store.read(uri))).toBe("new bucket");
      const methods = lenient.requests.map((r) => `${r.method} ${r.url.split("?")[0]}`);
      expect(methods).toContain("PUT /fresh-bucket/");
      // Concurrent first writes to another missing bucket both land, whichever creates it.
      await Promise.all(["a", "b", "c"].map((name) => store.write(`s3://second-bucket/${name}.pb`, bytes(name))));
      expect(text(await store.read("s3://second-bucket/a.pb"))).toBe("a");
      expect(text(await store.read("s3://second-bucket/b.pb"))).toBe("b");
    } finally {
      for (const store of stores.splice(0)) store.close();
      await lenient.stop();
    }
  });

  it("file:// keeps working next to S3", async () => {
    const store = open(minioStyle());
    const tmp = tempDir();
    try {
      await store.write(`file://${tmp.dir}/x.pb`, bytes("disk"));
      expect(text(await store.read(`file://${tmp.dir}/x.pb`))).toBe("disk");
    } finally {
      tmp.remove();
    }
  });

  it("reports an unreachable endpoint as a wrapped error", async () => {
    const store = open(minioStyle({}, { endpoint: "http://127.0.0.1:1" }));
    const uri = `s3://${BUCKET}/down/inputs.pb`;
    const error = await store.read(uri).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect(error).not.toBeInstanceOf(BlobNotFoundError);
    expect((error as Error).message).toContain(uri);
    expect((error as Error).cause).toBeDefined();
  });
});

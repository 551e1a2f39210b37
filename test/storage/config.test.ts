import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/index.js";
import {
  InvalidBlobUriError,
  createBlobStore,
  resolveStowBackend,
  s3SettingsFrom,
} from "../../src/storage/index.js";
import { bytes, quietLogger, storageConfig } from "./helpers.js";

/** The storage section of the reference's runs/config.yaml (v2.0.16). */
function shippedRunsStorage() {
  return storageConfig({
    type: "minio",
    container: "flyte-data",
    enableMulticontainer: false,
    stow: {
      kind: "s3",
      config: {
        auth_type: "accesskey",
        access_key_id: "minioadmin",
        secret_key: "minioadmin",
        region: "us-east-1",
        endpoint: "http://localhost:9000",
        disable_ssl: "true",
      },
    },
  });
}

describe("storage config → S3 settings", () => {
  it("reads the shipped runs config (stow kind s3, access keys, custom endpoint)", () => {
    const backend = resolveStowBackend(shippedRunsStorage());
    expect(backend).toMatchObject({ kind: "s3", legacy: false });
    expect(s3SettingsFrom(backend)).toEqual({
      region: "us-east-1",
      endpoint: "http://localhost:9000",
      forcePathStyle: true,
      credentials: { kind: "static", accessKeyId: "minioadmin", secretAccessKey: "minioadmin" },
      unsupported: [],
    });
  });

  it("passes a session token", () => {
    const cfg = shippedRunsStorage();
    cfg.stow.config.token = "session";
    expect(s3SettingsFrom(resolveStowBackend(cfg)).credentials).toMatchObject({ sessionToken: "session" });
  });

  it("uses the default credential chain and AWS addressing with the defaults", () => {
    const backend = resolveStowBackend(storageConfig());
    expect(backend).toEqual({ kind: "s3", config: { auth_type: "iam", region: "us-east-1" }, legacy: true });
    expect(s3SettingsFrom(backend)).toEqual({
      region: "us-east-1",
      endpoint: undefined,
      forcePathStyle: false,
      credentials: { kind: "default-chain" },
      unsupported: [],
    });
  });

  it("falls back to the deprecated storage.connection block", () => {
    const cfg = storageConfig({
      type: "minio",
      connection: {
        endpoint: "minio.local:9000",
        authType: "accesskey",
        accessKey: "ak",
        secretKey: "sk",
        region: "eu-west-1",
        disableSsl: true,
      },
    });
    const settings = s3SettingsFrom(resolveStowBackend(cfg));
    expect(settings).toMatchObject({
      region: "eu-west-1",
      endpoint: "http://minio.local:9000",
      forcePathStyle: true,
      credentials: { kind: "static", accessKeyId: "ak", secretAccessKey: "sk" },
    });
    cfg.connection.disableSsl = false;
    expect(s3SettingsFrom(resolveStowBackend(cfg)).endpoint).toBe("https://minio.local:9000");
  });

  it("uses storage.stow only when both kind and config are set", () => {
    const cfg = storageConfig({ stow: { kind: "s3", config: {} } });
    expect(resolveStowBackend(cfg).legacy).toBe(true);
  });

  it("keeps an explicit endpoint scheme whatever disable_ssl says", () => {
    const cfg = shippedRunsStorage();
    cfg.stow.config.endpoint = "https://s3.example.com";
    expect(s3SettingsFrom(resolveStowBackend(cfg)).endpoint).toBe("https://s3.example.com");
  });

  it("defaults auth_type to accesskey and region to us-east-1 in a stow map", () => {
    const cfg = storageConfig({ stow: { kind: "s3", config: { access_key_id: "a", secret_key: "b" } } });
    expect(s3SettingsFrom(resolveStowBackend(cfg))).toMatchObject({
      region: "us-east-1",
      credentials: { kind: "static", accessKeyId: "a", secretAccessKey: "b" },
    });
  });

  it("rejects invalid settings with the offending key named", () => {
    const badAuth = storageConfig({ stow: { kind: "s3", config: { auth_type: "oauth" } } });
    expect(() => createBlobStore(badAuth, { logger: quietLogger })).toThrow(ConfigError);
    expect(() => createBlobStore(badAuth, { logger: quietLogger })).toThrow(/storage\.stow\.config\.auth_type/);

    const noKey = storageConfig({ stow: { kind: "s3", config: { auth_type: "accesskey", secret_key: "s" } } });
    expect(() => createBlobStore(noKey, { logger: quietLogger })).toThrow(/storage\.stow\.config\.access_key_id/);

    const legacyNoSecret = storageConfig();
    legacyNoSecret.connection = { ...legacyNoSecret.connection, authType: "accesskey", accessKey: "a" };
    expect(() => createBlobStore(legacyNoSecret, { logger: quietLogger })).toThrow(/storage\.connection\.secret-key/);

    expect(() => createBlobStore(storageConfig({ type: "gcs" }), { logger: quietLogger })).toThrow(/storage\.type/);
    expect(() =>
      createBlobStore(storageConfig({ stow: { kind: "ftp", config: { a: "b" } } }), { logger: quietLogger }),
    ).toThrow(/storage\.stow\.kind/);

    const badEndpoint = shippedRunsStorage();
    badEndpoint.stow.config.endpoint = "http://bad host:9000";
    expect(() => createBlobStore(badEndpoint, { logger: quietLogger })).toThrow(/storage\.stow\.config\.endpoint/);
  });

  it("flags v2_signing as unsupported", () => {
    const cfg = shippedRunsStorage();
    cfg.stow.config.v2_signing = "true";
    expect(s3SettingsFrom(resolveStowBackend(cfg)).unsupported).toEqual(["storage.stow.config.v2_signing"]);
  });
});

describe("URI dispatch", () => {
  const store = createBlobStore(shippedRunsStorage(), { logger: quietLogger });

  it("refuses unknown schemes and malformed URIs", async () => {
    for (const uri of ["gs://bucket/key", "mem://x", "not a uri", "s3://", "s3://bucket", "s3://bucket/"]) {
      await expect(store.write(uri, bytes("x")), uri).rejects.toBeInstanceOf(InvalidBlobUriError);
    }
  });

  it("refuses buckets other than storage.container unless multi-container is on", async () => {
    const error = await store.read("s3://other-bucket/key").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBlobUriError);
    expect((error as Error).message).toMatch(/storage\.container .*enable-multicontainer/);
    store.close();
  });

  it("refuses s3:// when the stow kind is not s3", async () => {
    const local = createBlobStore(storageConfig({ type: "local", stow: { kind: "local", config: { path: "/tmp" } } }), {
      logger: quietLogger,
    });
    await expect(local.exists("s3://bucket/key")).rejects.toThrow(/stow\.kind s3/);
  });
});

import type { Logger } from "pino";
import { ConfigError, type Config } from "../config/types.js";
import {
  InvalidBlobUriError,
  limitFromMegabytes,
  type BlobStore,
  type ClosableBlobStore,
} from "./blob-store.js";
import { createFileBlobStore } from "./file-store.js";
import { createMemoryBlobStore } from "./memory-store.js";
import { resolveStowBackend, s3SettingsFrom, type S3Settings } from "./s3-settings.js";
import { parseUri } from "./uri.js";

export {
  BlobNotFoundError,
  BlobStoreError,
  BlobTooLargeError,
  InvalidBlobUriError,
  MiB,
  type BlobStore,
  type ClosableBlobStore,
  type ReadOptions,
} from "./blob-store.js";
export { createFileBlobStore, filePathFromUri, type FileBlobStoreOptions } from "./file-store.js";
export { createMemoryBlobStore, type MemoryBlobStore, type MemoryBlobStoreOptions } from "./memory-store.js";
export { resolveStowBackend, s3SettingsFrom, type S3Settings, type StowBackend } from "./s3-settings.js";
// The S3 store (and the AWS SDK behind it) is imported from ./s3-store.js
// directly, and here only when an s3:// URI is first used: a service that
// stores on the local disk never loads it.
export type { S3BlobStoreOptions } from "./s3-store.js";

/** storage.type values the reference accepts; all but "mem" go through its stow layer. */
const STOW_TYPES = new Set(["s3", "minio", "local", "stow"]);
/** stow kinds the reference knows; only s3 and local are served by this port. */
const KNOWN_KINDS = new Set(["s3", "local", "google", "azure", "oracle", "swift"]);

/**
 * The blob store the `storage.*` config describes. `file://` URIs (and plain
 * absolute paths) always go to the local disk; `s3://` URIs go to S3 when the
 * backend is stow kind s3 (storage.stow, or the deprecated
 * storage.connection). `storage.type: mem` keeps every object in memory.
 * The S3 client (and the AWS SDK) is loaded on first use; `close` releases it.
 */
export function createBlobStore(config: Config["storage"], opts: { logger: Logger }): ClosableBlobStore {
  const logger = opts.logger.child({ component: "storage" });
  const maxBytes = limitFromMegabytes(config.limits.maxDownloadMBs);

  if (config.type === "mem") {
    return { ...createMemoryBlobStore({ maxBytes }), close() {} };
  }
  if (!STOW_TYPES.has(config.type)) {
    throw new ConfigError(
      `storage.type: invalid value ${JSON.stringify(config.type)}; expected one of s3, minio, local, mem, stow`,
    );
  }

  const backend = resolveStowBackend(config);
  if (!KNOWN_KINDS.has(backend.kind)) {
    throw new ConfigError(`storage.stow.kind: unsupported value ${JSON.stringify(backend.kind)}`);
  }
  if (backend.kind === "local" && !("path" in backend.config)) {
    throw new ConfigError("storage.stow.config.path is required when storage.stow.kind is local");
  }
  const s3Settings = backend.kind === "s3" ? s3SettingsFrom(backend) : undefined;
  if (backend.kind !== "s3" && backend.kind !== "local") {
    logger.warn({ kind: backend.kind }, "this stow kind is not supported; only file:// URIs will work");
  }

  const file = createFileBlobStore({
    maxBytes,
    containerRoot: backend.kind === "local" ? backend.config.path : undefined,
  });

  let s3: Promise<ClosableBlobStore> | undefined;
  function s3Store(uri: string, settings: S3Settings | undefined): Promise<ClosableBlobStore> {
    if (!settings) {
      return Promise.reject(new InvalidBlobUriError(uri, `s3:// needs storage.stow.kind s3 (configured: ${backend.kind})`));
    }
    s3 ??= import("./s3-store.js").then(({ createS3BlobStore, createS3Client }) => {
      for (const key of settings.unsupported) logger.warn({ key }, "storage setting not supported; ignored");
      const store = createS3BlobStore({
        client: createS3Client(settings),
        logger,
        region: settings.region,
        maxBytes,
        container: config.container,
        multiContainer: config.enableMulticontainer,
      });
      logger.info(
        {
          endpoint: settings.endpoint ?? "(aws)",
          region: settings.region,
          pathStyle: settings.forcePathStyle,
          auth: settings.credentials.kind,
          legacyConfig: backend.legacy,
        },
        "S3 client ready",
      );
      return store;
    });
    return s3;
  }

  async function route(uri: string): Promise<BlobStore> {
    const { scheme } = parseUri(uri);
    if (scheme === "file") return file;
    if (scheme === "s3") return s3Store(uri, s3Settings);
    throw new InvalidBlobUriError(uri, `unsupported scheme ${scheme}://`);
  }

  return {
    async write(uri, data) {
      return (await route(uri)).write(uri, data);
    },
    async read(uri, readOpts) {
      return (await route(uri)).read(uri, readOpts);
    },
    async exists(uri) {
      return (await route(uri)).exists(uri);
    },
    async writeNew(uri, data) {
      const store = await route(uri);
      if (store.writeNew) return store.writeNew(uri, data);
      // S3: checked, then written (not atomic against a concurrent writer of the same key, as a lookup before write()).
      if (await store.exists(uri)) return false;
      await store.write(uri, data);
      return true;
    },
    close() {
      void s3?.then((store) => store.close()).catch(() => undefined);
      s3 = undefined;
    },
  };
}

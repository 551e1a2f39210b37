/**
 * The storage seam: run inputs and outputs are whole objects addressed by
 * URI (`file:///…`, `s3://bucket/key`, …). Implementations live next to
 * this file; src/storage/index.ts picks one from the `storage.*` config.
 */

export interface ReadOptions {
  /**
   * Largest object accepted, in bytes; bigger objects fail with
   * BlobTooLargeError before their body is read. 0 (or Infinity) means no limit.
   * Defaults to the store's limit (storage.limits.maxDownloadMBs).
   */
  maxBytes?: number;
}

export interface BlobStore {
  /** Writes the whole object, creating parent folders and replacing any existing object. */
  write(uri: string, data: Uint8Array): Promise<void>;
  /** Reads the whole object; throws BlobNotFoundError when it does not exist. */
  read(uri: string, opts?: ReadOptions): Promise<Uint8Array>;
  /** Whether an object exists at `uri`. */
  exists(uri: string): Promise<boolean>;
  /**
   * Writes the object only when none exists at `uri`: false (nothing written)
   * when one does. For objects nobody reads before the caller publishes where
   * they are (CreateRun's inputs, before the run's row): the file store writes
   * in place, without a temp file, so a crash mid-write can leave a partial
   * object, which the next writeNew reports as existing (false). Optional:
   * without it, callers check first and use write().
   */
  writeNew?(uri: string, data: Uint8Array): Promise<boolean>;
}

/** A store that holds connections; `close` releases them (idempotent). */
export interface ClosableBlobStore extends BlobStore {
  close(): void;
}

/** Any storage failure; the message names the URI, the underlying error is in `cause`. */
export class BlobStoreError extends Error {
  override name = "BlobStoreError";
  constructor(
    message: string,
    readonly uri: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No object at that URI (nor, for S3, a bucket of that name). */
export class BlobNotFoundError extends BlobStoreError {
  override name = "BlobNotFoundError";
  constructor(uri: string, options?: ErrorOptions) {
    super(`no object at ${uri}`, uri, options);
  }
}

/** The object is larger than the read limit. */
export class BlobTooLargeError extends BlobStoreError {
  override name = "BlobTooLargeError";
  constructor(
    uri: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `object at ${uri} is ${formatMiB(size)} MB, over the ${formatMiB(limit)} MB read limit; ` +
        "raise storage.limits.maxDownloadMBs to allow larger objects",
      uri,
    );
  }
}

/** The URI is malformed, uses an unsupported scheme, or is refused by policy. */
export class InvalidBlobUriError extends BlobStoreError {
  override name = "InvalidBlobUriError";
  constructor(uri: string, reason: string) {
    super(`invalid storage URI ${JSON.stringify(uri)}: ${reason}`, uri);
  }
}

export const MiB = 1024 * 1024;

/** storage.limits.maxDownloadMBs as a byte limit (0 stays "no limit"). */
export function limitFromMegabytes(maxDownloadMBs: number): number {
  return maxDownloadMBs > 0 ? maxDownloadMBs * MiB : 0;
}

/** Throws BlobTooLargeError when `size` exceeds a non-zero `limit`. */
export function checkSize(uri: string, size: number, limit: number): void {
  if (limit > 0 && size > limit) throw new BlobTooLargeError(uri, size, limit);
}

/** The effective limit of one read: the call's own, else the store's. */
export function effectiveLimit(opts: ReadOptions | undefined, storeLimit: number): number {
  const limit = opts?.maxBytes ?? storeLimit;
  if (limit === Infinity) return 0;
  if (!Number.isFinite(limit) || limit < 0) throw new RangeError(`maxBytes must be a non-negative number, got ${limit}`);
  return limit;
}

/** Wraps anything that is not already a BlobStoreError so the message names the URI. */
export function wrapError(action: string, uri: string, error: unknown): BlobStoreError {
  if (error instanceof BlobStoreError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new BlobStoreError(`failed to ${action} ${uri}: ${detail}`, uri, { cause: error });
}

function formatMiB(bytes: number): string {
  return (bytes / MiB).toFixed(6).replace(/\.?0+$/, "");
}

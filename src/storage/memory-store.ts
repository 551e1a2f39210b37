import {
  BlobNotFoundError,
  checkSize,
  effectiveLimit,
  type BlobStore,
  type ReadOptions,
} from "./blob-store.js";

export interface MemoryBlobStoreOptions {
  /** Read limit in bytes; 0 (the default) means none. */
  maxBytes?: number;
}

export interface MemoryBlobStore extends BlobStore {
  /** The URIs currently held, in insertion order (for assertions in tests). */
  keys(): string[];
  clear(): void;
}

/**
 * Objects kept in a Map keyed by the URI exactly as given (any scheme), like
 * the reference's `storage.type: mem`. Data is copied in and out, so callers
 * cannot change what is stored.
 */
export function createMemoryBlobStore(opts: MemoryBlobStoreOptions = {}): MemoryBlobStore {
  const objects = new Map<string, Uint8Array>();
  const storeLimit = opts.maxBytes ?? 0;
  return {
    async write(uri, data) {
      objects.set(uri, new Uint8Array(data));
    },
    async writeNew(uri, data) {
      if (objects.has(uri)) return false;
      objects.set(uri, new Uint8Array(data));
      return true;
    },
    async read(uri, readOpts?: ReadOptions) {
      const data = objects.get(uri);
      if (data === undefined) throw new BlobNotFoundError(uri);
      checkSize(uri, data.byteLength, effectiveLimit(readOpts, storeLimit));
      return new Uint8Array(data);
    },
    async exists(uri) {
      return objects.has(uri);
    },
    keys: () => [...objects.keys()],
    clear: () => objects.clear(),
  };
}

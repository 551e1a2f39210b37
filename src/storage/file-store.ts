import { randomBytes } from "node:crypto";
import { mkdir as mkdirCb, rename as renameCb, writeFile as writeFileCb } from "node:fs";
import { open, rm, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import {
  BlobNotFoundError,
  InvalidBlobUriError,
  checkSize,
  effectiveLimit,
  wrapError,
  type BlobStore,
  type ReadOptions,
} from "./blob-store.js";
import { decodeComponent, parseUri } from "./uri.js";

export interface FileBlobStoreOptions {
  /** Read limit in bytes; 0 (the default) means none. */
  maxBytes?: number;
  /**
   * Folder that `file://<container>/<key>` URIs resolve under (the reference's
   * `storage.stow.kind: local` with `config.path`). Without it only
   * `file:///absolute/path` (and plain absolute paths) are accepted.
   */
  containerRoot?: string;
}

/**
 * The local path a file URI names. Refuses `..` segments (even
 * percent-encoded), encoded slashes and NUL bytes, so a URI can never climb
 * out of the folder its prefix names.
 */
export function filePathFromUri(uri: string, containerRoot?: string): string {
  const { scheme, authority, path } = parseUri(uri);
  if (scheme !== "file") throw new InvalidBlobUriError(uri, `not a file URI (scheme ${scheme})`);
  const hasContainer = authority !== "" && authority !== "localhost";
  if (hasContainer && containerRoot === undefined) {
    throw new InvalidBlobUriError(uri, "a file URI needs an empty host (file:///absolute/path)");
  }

  const segments: string[] = [];
  for (const raw of path.split("/")) {
    if (raw === "") continue;
    const segment = checkSegment(uri, decodeComponent(uri, raw));
    if (segment !== ".") segments.push(segment);
  }
  if (segments.length === 0) throw new InvalidBlobUriError(uri, "no file path");
  if (path.endsWith("/")) throw new InvalidBlobUriError(uri, "names a folder, not a file");

  if (!hasContainer) return join("/", ...segments);
  const container = checkSegment(uri, decodeComponent(uri, authority));
  if (container === ".") throw new InvalidBlobUriError(uri, "'.' is not a container name");
  return join(resolve(containerRoot!), container, ...segments);
}

function checkSegment(uri: string, segment: string): string {
  if (segment === "..") throw new InvalidBlobUriError(uri, "'..' segments are not allowed");
  if (segment.includes("/") || segment.includes("\0")) {
    throw new InvalidBlobUriError(uri, "encoded '/' or NUL in a path segment");
  }
  return segment;
}

// The write path uses the callback API: it skips the FileHandle objects of
// fs/promises, which cost about a quarter more CPU per small write.
const mkdir = promisify(mkdirCb);
const writeFile = promisify(writeFileCb);
const rename = promisify(renameCb);

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Creates `dir` and its parents. Most new objects land in a new folder under a
 * new folder whose parent exists (a new run's `<run>/inputs/`): that is tried
 * first, two mkdir calls, where a recursive mkdir takes three (it tries the
 * deepest folder first); anything else falls back to the recursive one.
 */
async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dirname(dir));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EEXIST") {
      await mkdir(dir, { recursive: true });
      return;
    }
  }
  try {
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/** Objects as files on the local disk; writes are atomic (temp file, then rename), not fsynced. */
export function createFileBlobStore(opts: FileBlobStoreOptions = {}): BlobStore {
  const storeLimit = opts.maxBytes ?? 0;
  const toPath = (uri: string) => filePathFromUri(uri, opts.containerRoot);
  const storeId = randomBytes(6).toString("hex");
  let tempCounter = 0;

  return {
    async write(uri, data) {
      const target = toPath(uri);
      const dir = dirname(target);
      // Unique per store (random, drawn once) and per write (counter).
      const temp = join(dir, `.${basename(target)}.${storeId}${(tempCounter++).toString(36)}.tmp`);
      try {
        await mkdir(dir, { recursive: true });
        // No fsync, as the reference's local store: the database commits
        // without one too (WAL, synchronous=NORMAL), and the rename alone
        // keeps readers from ever seeing a partial object.
        await writeFile(temp, data, { flag: "wx" });
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw wrapError("write", uri, error);
      }
    },

    async writeNew(uri, data) {
      const target = toPath(uri);
      try {
        await makeFolder(dirname(target));
        // O_EXCL: never replaces a file, and one system call fewer than temp + rename.
        await writeFile(target, data, { flag: "wx" });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw wrapError("write", uri, error);
      }
    },

    async read(uri, readOpts?: ReadOptions) {
      const path = toPath(uri);
      const limit = effectiveLimit(readOpts, storeLimit);
      let handle;
      try {
        handle = await open(path, "r");
      } catch (error) {
        if (isMissing(error)) throw new BlobNotFoundError(uri, { cause: error });
        throw wrapError("read", uri, error);
      }
      try {
        const info = await handle.stat();
        // A folder is not an object, as in an object store.
        if (!info.isFile()) throw new BlobNotFoundError(uri);
        checkSize(uri, info.size, limit);
        const buffer = await handle.readFile();
        // The file may have grown between stat and read.
        checkSize(uri, buffer.byteLength, limit);
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (error) {
        throw wrapError("read", uri, error);
      } finally {
        await handle.close();
      }
    },

    async exists(uri) {
      const path = toPath(uri);
      try {
        return (await stat(path)).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw wrapError("check", uri, error);
      }
    },
  };
}

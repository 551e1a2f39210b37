/**
 * Response compression for the router. gzip keeps connect-node's decoder
 * (limits and error codes on the requests' side) but compresses on the event
 * loop at zlib level 1: a watch stream's messages are a few KiB each, and the
 * async version runs each one as a libuv threadpool job at level 6 (a
 * sub-millisecond job handed across threads, behind the file writes queued
 * there). Level 1 costs a fraction of level 6's CPU on protobuf lists, whose
 * repeated names and prefixes it still shrinks several times.
 */
import { gzipSync } from "node:zlib";
import { compressionGzip } from "@connectrpc/connect-node";
import type { Compression } from "@connectrpc/connect/protocol";

/** Larger messages go to the threadpool (connect-node's async gzip) so a big one cannot stall the loop. */
const SYNC_MAX_BYTES = 256 * 1024;

export const gzipLevel1: Compression = {
  name: "gzip",
  compress(bytes) {
    if (bytes.byteLength > SYNC_MAX_BYTES) return compressionGzip.compress(bytes);
    const out = gzipSync(bytes, { level: 1 });
    return Promise.resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  },
  decompress: (bytes, readMaxBytes) => compressionGzip.decompress(bytes, readMaxBytes),
};

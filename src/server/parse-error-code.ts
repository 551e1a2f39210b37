// Malformed request messages must be reported as InvalidArgument.
//
// connect-es wraps every failure of the binary protobuf decoder in
// `new ConnectError("parse binary: …", Code.Internal)` (see
// createBinarySerialization in @connectrpc/connect/protocol/serialization.js),
// with no hook to change the code. Malformed JSON already yields
// InvalidArgument. This module corrects the binary case in two places:
//
// * Streaming RPCs (all protocols): requests are decoded lazily while the
//   implementation consumes its input, and the input stream passes through the
//   interceptor chain. `parseErrorInterceptor` (installed outermost) wraps the
//   input stream and re-throws parse failures as InvalidArgument, so the
//   protocol handler serializes the right code (Connect end-stream message,
//   gRPC trailers, gRPC-Web trailer frame) and inner interceptors see it too.
//
// * Unary RPCs: the request is decoded before the interceptors run, so the
//   error response has already been produced when we get it back. The
//   interceptor records that the implementation was reached; when it was not
//   and the response reports Internal with a message starting with
//   "parse binary:", `rewriteParseErrorResponse` rewrites it:
//     - Connect unary: HTTP 500 JSON `{"code":"internal",…}` ⇒ 400 `invalid_argument`
//     - gRPC: `grpc-status: 13` (trailers, or headers of a trailers-only response) ⇒ 3
//     - gRPC-Web: the trailer frame (flag 0x80) at the end of the body ⇒ `grpc-status: 3`
//   Gating on "implementation not reached" keeps genuine Internal errors that
//   an implementation raises (for example a downstream client failing to
//   decode a response) untouched.

import { Code, ConnectError, createContextKey, createContextValues } from "@connectrpc/connect";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import * as zlib from "node:zlib";

const PARSE_BINARY_PREFIX = "parse binary:";

/** Per-request bookkeeping shared by the interceptor and the response rewrite. */
export interface ParseErrorTracking {
  /** Set once the interceptor chain (hence the implementation) was invoked. */
  implementationReached: boolean;
}

const kTracking = createContextKey<ParseErrorTracking | undefined>(undefined, {
  description: "parse-error-code tracking",
});

/** Creates the per-request ContextValues carrying a fresh tracking record. */
export function createParseErrorContext(): { contextValues: ContextValues; tracking: ParseErrorTracking } {
  const tracking: ParseErrorTracking = { implementationReached: false };
  const contextValues = createContextValues().set(kTracking, tracking);
  return { contextValues, tracking };
}

/** True for the error connect-es raises when a binary request message fails to decode. */
export function isRequestParseError(e: unknown): e is ConnectError {
  return e instanceof ConnectError && e.code === Code.Internal && e.rawMessage.startsWith(PARSE_BINARY_PREFIX);
}

function toInvalidArgument(e: ConnectError): ConnectError {
  const err = new ConnectError(e.rawMessage, Code.InvalidArgument, e.metadata, undefined, e);
  err.details = e.details;
  return err;
}

async function* mapParseErrors<T>(input: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* input;
  } catch (e) {
    throw isRequestParseError(e) ? toInvalidArgument(e) : e;
  }
}

/** Must be the first (outermost) interceptor of the router. */
export const parseErrorInterceptor: Interceptor = (next) => async (req) => {
  const tracking = req.contextValues.get(kTracking);
  if (tracking) {
    tracking.implementationReached = true;
  }
  if (req.stream) {
    return next({ ...req, message: mapParseErrors(req.message) });
  }
  return next(req);
};

// --- unary response rewrite ---------------------------------------------------

type WireProtocol = "connect-unary" | "connect-stream" | "grpc" | "grpc-web";

/** Classifies a request by its Content-Type, the way connect's handlers negotiate. */
export function wireProtocolOf(contentType: string | null): WireProtocol {
  const ct = (contentType ?? "").toLowerCase();
  if (/^application\/grpc-web(?:-text)?(?:[+;]|$)/.test(ct)) return "grpc-web";
  if (/^application\/grpc(?:[+;]|$)/.test(ct)) return "grpc";
  if (/^application\/connect\+/.test(ct)) return "connect-stream";
  return "connect-unary"; // application/json, application/proto, GET requests
}

/**
 * Returns `res` unchanged, or a copy whose error is reported as
 * InvalidArgument when it is a request parse error raised before the
 * implementation ran (see the module comment).
 */
export async function rewriteParseErrorResponse(
  res: UniversalServerResponse,
  requestContentType: string | null,
  tracking: ParseErrorTracking,
): Promise<UniversalServerResponse> {
  if (tracking.implementationReached) {
    return res;
  }
  switch (wireProtocolOf(requestContentType)) {
    case "connect-unary":
      return rewriteConnectUnary(res);
    case "grpc":
      return rewriteGrpc(res, tracking);
    case "grpc-web":
      return rewriteGrpcWeb(res, tracking);
    case "connect-stream":
      return res; // handled by the interceptor
  }
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;

async function rewriteConnectUnary(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const header = res.header;
  if (res.status !== 500 || !header || !res.body || !/^application\/json/i.test(header.get("content-type") ?? "")) {
    return res;
  }
  // connect's unary handler emits the whole body as one in-memory chunk.
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const raw = Buffer.concat(chunks, size);
  const unchanged = { ...res, body: once(raw) };
  if (size > MAX_ERROR_BODY_BYTES) {
    return unchanged;
  }
  let json: unknown;
  try {
    json = JSON.parse(decompress(raw, header.get("content-encoding")).toString("utf8"));
  } catch {
    return unchanged;
  }
  if (
    typeof json !== "object" ||
    json === null ||
    (json as { code?: unknown }).code !== "internal" ||
    typeof (json as { message?: unknown }).message !== "string" ||
    !(json as { message: string }).message.startsWith(PARSE_BINARY_PREFIX)
  ) {
    return unchanged;
  }
  const body = Buffer.from(JSON.stringify({ ...json, code: "invalid_argument" }), "utf8");
  const newHeader = new Headers(header);
  newHeader.delete("content-encoding");
  newHeader.set("content-length", String(body.byteLength));
  return { ...res, status: 400, header: newHeader, body: once(body) };
}

function rewriteGrpc(res: UniversalServerResponse, tracking: ParseErrorTracking): UniversalServerResponse {
  const fix = (h: Headers | undefined) => {
    if (!tracking.implementationReached && h && isParseErrorStatus(h)) {
      h.set("grpc-status", String(Code.InvalidArgument));
    }
  };
  // Trailers-only responses carry the status in the headers.
  fix(res.header);
  if (!res.body) {
    fix(res.trailer);
    return res;
  }
  const body = res.body;
  return {
    ...res,
    // The trailer object is filled in while the body is produced, and the
    // adapter reads it after the body is drained, so fix it in between.
    body: (async function* () {
      yield* body;
      fix(res.trailer);
    })(),
  };
}

function rewriteGrpcWeb(res: UniversalServerResponse, tracking: ParseErrorTracking): UniversalServerResponse {
  if (!res.body) {
    return res;
  }
  const body = res.body;
  const encoding = res.header?.get("grpc-encoding") ?? null;
  return {
    ...res,
    body: (async function* () {
      const it = body[Symbol.asyncIterator]();
      try {
        let r = await it.next();
        if (r.done) return;
        if (tracking.implementationReached) {
          // Real output: pass everything through untouched.
          for (; !r.done; r = await it.next()) yield r.value;
          return;
        }
        // The implementation never ran, so the body is only the trailer frame.
        const chunks: Uint8Array[] = [];
        let size = 0;
        for (; !r.done; r = await it.next()) {
          chunks.push(r.value);
          size += r.value.byteLength;
          if (size > MAX_ERROR_BODY_BYTES) {
            yield* chunks;
            chunks.length = 0;
            for (r = await it.next(); !r.done; r = await it.next()) yield r.value;
            return;
          }
        }
        yield rewriteGrpcWebFrames(Buffer.concat(chunks, size), encoding);
      } finally {
        await it.return?.();
      }
    })(),
  };
}

const GRPC_WEB_TRAILER_FLAG = 0x80;
const COMPRESSED_FLAG = 0x01;

function rewriteGrpcWebFrames(buf: Buffer, encoding: string | null): Uint8Array {
  const out: Buffer[] = [];
  let off = 0;
  while (off + 5 <= buf.length) {
    const flags = buf[off];
    const len = buf.readUInt32BE(off + 1);
    const end = off + 5 + len;
    if (end > buf.length) break;
    let frame = buf.subarray(off, end);
    if (flags & GRPC_WEB_TRAILER_FLAG) {
      try {
        let data = buf.subarray(off + 5, end);
        if (flags & COMPRESSED_FLAG) data = decompress(data, encoding);
        const text = data.toString("latin1");
        const fixed = rewriteGrpcWebTrailerText(text);
        if (fixed !== text) {
          const payload = Buffer.from(fixed, "latin1");
          const head = Buffer.alloc(5);
          head[0] = GRPC_WEB_TRAILER_FLAG;
          head.writeUInt32BE(payload.length, 1);
          frame = Buffer.concat([head, payload]);
        }
      } catch {
        // leave the frame as it is
      }
    }
    out.push(frame);
    off = end;
  }
  if (off < buf.length) out.push(buf.subarray(off));
  return Buffer.concat(out);
}

function rewriteGrpcWebTrailerText(text: string): string {
  const trailer = new Headers();
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) trailer.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  if (!isParseErrorStatus(trailer)) {
    return text;
  }
  trailer.set("grpc-status", String(Code.InvalidArgument));
  let out = "";
  trailer.forEach((value, key) => {
    out += `${key}: ${value}\r\n`;
  });
  return out;
}

function isParseErrorStatus(h: Headers): boolean {
  if (h.get("grpc-status") !== String(Code.Internal)) return false;
  // A status proto would repeat the code; connect never attaches one to parse errors.
  if (h.has("grpc-status-details-bin")) return false;
  let message = h.get("grpc-message") ?? "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // keep the raw value
  }
  return message.startsWith(PARSE_BINARY_PREFIX);
}

function decompress(data: Buffer, encoding: string | null): Buffer {
  switch ((encoding ?? "identity").toLowerCase()) {
    case "identity":
      return data;
    case "gzip":
      return zlib.gunzipSync(data, { maxOutputLength: MAX_ERROR_BODY_BYTES });
    case "br":
      return zlib.brotliDecompressSync(data, { maxOutputLength: MAX_ERROR_BODY_BYTES });
    default:
      throw new Error(`unsupported encoding ${encoding}`);
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

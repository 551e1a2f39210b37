/**
 * Recognises a call that failed because its client cancelled or went away
 * (a reset stream, a closed connection, a body that ended early), so that it
 * is reported as Canceled at debug level rather than as an internal error.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** Node error codes of a peer that reset or closed the stream or connection. */
const GONE_CODES = new Set([
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_STREAM_DESTROYED",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_INVALID_STREAM",
  "ERR_HTTP2_STREAM_CANCEL",
  "ECONNRESET",
  "EPIPE",
  "ABORT_ERR",
]);

function goneByItself(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && GONE_CODES.has(code)) return true;
    if (e instanceof Error && (e.message === "Premature close" || e.name === "AbortError")) return true;
    if (e instanceof ConnectError && e.code === Code.Canceled) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True when `error` (or its cause chain) says the client went away, or when
 * the call's signal was aborted (client cancel, deadline, or shutdown) and
 * the error is not one our own code chose to return.
 */
export function isClientGone(error: unknown, signal?: AbortSignal): boolean {
  if (goneByItself(error)) return true;
  if (!signal?.aborted) return false;
  // A deadline the client set is its own code, not a cancel.
  if (signal.reason instanceof ConnectError && signal.reason.code === Code.DeadlineExceeded) return false;
  if (error instanceof ConnectError) {
    return error.code === Code.Canceled || error.code === Code.Aborted || error.code === Code.Unknown || error.code === Code.Internal;
  }
  return true;
}

/** The Canceled error a client-gone failure is reported as; the original stays in `cause`. */
export function canceledError(cause: unknown): ConnectError {
  return new ConnectError("the client cancelled or went away", Code.Canceled, undefined, undefined, cause);
}

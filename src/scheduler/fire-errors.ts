/** How the scheduler treats a failed CreateRun (or trigger read). */
import { Code, ConnectError } from "@connectrpc/connect";
import { NotFoundError, UnavailableError } from "../repository/errors.js";

/** Codes a client would retry; everything else fails the same way next time. */
const TRANSIENT_CODES: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted]);
/** Codes that say "this slot can never succeed". */
const PERMANENT_CODES: ReadonlySet<Code> = new Set([
  Code.NotFound,
  Code.InvalidArgument,
  Code.FailedPrecondition,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.Unimplemented,
  Code.OutOfRange,
]);

/** The database or the executor is unreachable for now: retry with backoff, without giving up. */
export function defaultIsTransientError(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  return error instanceof ConnectError && TRANSIENT_CODES.has(error.code);
}

/** The slot can never succeed: give it up at once. */
export function isPermanentError(error: unknown): boolean {
  if (error instanceof NotFoundError) return true;
  return error instanceof ConnectError && PERMANENT_CODES.has(error.code);
}

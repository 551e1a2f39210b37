/**
 * Domain errors thrown by repositories and services. One interceptor maps
 * them to Connect codes (src/rpc/connect-errors.ts); internals stay
 * in `cause` and in the log.
 */
export class NotFoundError extends Error {
  override name = "NotFoundError";
}

export class AlreadyExistsError extends Error {
  override name = "AlreadyExistsError";
}

/** The request is well-formed but names something invalid (bad filter, token, limit …). */
export class InvalidArgumentError extends Error {
  override name = "InvalidArgumentError";
}

/** The operation conflicts with the stored state (e.g. optimistic-lock failures). */
export class FailedPreconditionError extends Error {
  override name = "FailedPreconditionError";
}

/** The database cannot be reached right now. */
export class UnavailableError extends Error {
  override name = "UnavailableError";
}

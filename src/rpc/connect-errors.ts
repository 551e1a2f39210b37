/**
 * The one mapping of errors to Connect codes, used by the error interceptor
 * for every RPC and by the code that answers outside it (stream items of
 * InternalRunService, the scheduler's in-process CreateRun).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "../util/errors.js";

export interface ErrorMappingOptions {
  logger: Logger;
  /** Recognises "database unreachable" errors of the dialect in use. */
  isConnectionError: (error: unknown) => boolean;
}

/** Domain errors → Connect codes, once for every RPC; unknown errors become Internal with a logged stack. */
export function toConnectError(error: unknown, opts: ErrorMappingOptions, procedure: string): ConnectError {
  if (error instanceof ConnectError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NotFoundError) return new ConnectError(message, Code.NotFound, undefined, undefined, error);
  if (error instanceof AlreadyExistsError) return new ConnectError(message, Code.AlreadyExists, undefined, undefined, error);
  if (error instanceof InvalidArgumentError) return new ConnectError(message, Code.InvalidArgument, undefined, undefined, error);
  if (error instanceof FailedPreconditionError) {
    return new ConnectError(message, Code.FailedPrecondition, undefined, undefined, error);
  }
  if (error instanceof UnavailableError || opts.isConnectionError(error)) {
    return new ConnectError(`database unavailable: ${message}`, Code.Unavailable, undefined, undefined, error);
  }
  opts.logger.error({ err: error, procedure }, "unexpected error in handler");
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

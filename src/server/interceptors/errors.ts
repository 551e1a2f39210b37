import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "../../repository/errors.js";
import { canceledError, isClientGone } from "../../telemetry/client-gone.js";

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

/** A client that cancelled or went away is Canceled (not logged here); anything else goes through toConnectError. */
function mapError(error: unknown, signal: AbortSignal, opts: ErrorMappingOptions, procedure: string): ConnectError {
  if (isClientGone(error, signal)) return error instanceof ConnectError && error.code === Code.Canceled ? error : canceledError(error);
  return toConnectError(error, opts, procedure);
}

export function errorMappingInterceptor(opts: ErrorMappingOptions): Interceptor {
  return (next) => async (req) => {
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    let res;
    try {
      res = await next(req);
    } catch (error) {
      throw mapError(error, req.signal, opts, procedure);
    }
    if (!res.stream) return res;
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* inner;
        } catch (error) {
          throw mapError(error, req.signal, opts, procedure);
        }
      })(),
    };
  };
}

import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { toConnectError, type ErrorMappingOptions } from "../../rpc/connect-errors.js";
import { canceledError, isClientGone } from "../../rpc/client-gone.js";

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

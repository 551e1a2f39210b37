import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";

/** Codes that mean the server failed, not the caller: logged at error. */
const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unavailable, Code.Unimplemented]);

function logFailure(logger: Logger, procedure: string, started: number, error: unknown): void {
  const err = ConnectError.from(error);
  const fields = { procedure, code: Code[err.code], ms: Date.now() - started, error: err.rawMessage };
  if (err.code === Code.Canceled) logger.debug(fields, "call canceled");
  else if (SERVER_FAULTS.has(err.code)) logger.error(fields, "call failed");
  else logger.warn(fields, "call rejected");
}

/** One line per call at debug, one per failed call at warn (caller's fault) or error (ours). */
export function loggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    const started = Date.now();
    let res;
    try {
      res = await next(req);
    } catch (error) {
      logFailure(logger, procedure, started, error);
      throw error;
    }
    if (!res.stream) {
      logger.debug({ procedure, ms: Date.now() - started }, "call ok");
      return res;
    }
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* inner;
          logger.debug({ procedure, ms: Date.now() - started }, "stream ended");
        } catch (error) {
          logFailure(logger, procedure, started, error);
          throw error;
        }
      })(),
    };
  };
}

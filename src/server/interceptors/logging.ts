import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { isClientGone } from "../../rpc/client-gone.js";
import { requestMetaKey, type RequestMeta } from "../../telemetry/request-context.js";

/**
 * Codes that mean the server failed, not the caller: logged at error. Unimplemented is not one: it is
 * the deliberate answer of RPCs the reference does not serve either (GetSettings, GetOAuth2Metadata
 * while unconfigured), so it is a refused call (warn).
 */
const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unavailable]);

interface CallFields {
  procedure: string;
  code: string;
  ms: number;
  requestId?: string;
  traceId?: string;
  error?: string;
}

function fields(procedure: string, started: number, code: Code | "OK", meta: RequestMeta | undefined): CallFields {
  const f: CallFields = { procedure, code: code === "OK" ? "OK" : Code[code], ms: Date.now() - started };
  if (meta) {
    f.requestId = meta.requestId;
    if (meta.traceId) f.traceId = meta.traceId;
  }
  return f;
}

function logFailure(logger: Logger, procedure: string, started: number, error: unknown, signal: AbortSignal, meta: RequestMeta | undefined): void {
  if (isClientGone(error, signal)) {
    logger.debug(fields(procedure, started, Code.Canceled, meta), "call canceled");
    return;
  }
  const err = ConnectError.from(error);
  const f = fields(procedure, started, err.code, meta);
  f.error = err.rawMessage;
  if (err.code === Code.Canceled) logger.debug(f, "call canceled");
  else if (SERVER_FAULTS.has(err.code)) logger.error(f, "call failed");
  else logger.warn(f, "call rejected");
}

/**
 * One line per call: at debug when it succeeds or the client cancelled or went
 * away, at warn when the caller's request was refused, at error when we failed.
 * Each line carries procedure, code, ms, requestId and (when traced) traceId.
 */
export function loggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const procedure = req.method.parent.typeName + "/" + req.method.name;
    const meta = req.contextValues.get(requestMetaKey);
    const started = Date.now();
    let res;
    try {
      res = await next(req);
    } catch (error) {
      logFailure(logger, procedure, started, error, req.signal, meta);
      throw error;
    }
    if (!res.stream) {
      if (logger.isLevelEnabled("debug")) logger.debug(fields(procedure, started, "OK", meta), "call ok");
      return res;
    }
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        let logged = false;
        try {
          yield* inner;
        } catch (error) {
          logged = true;
          logFailure(logger, procedure, started, error, req.signal, meta);
          throw error;
        } finally {
          // Ended on the client's signal (watches end quietly then) or the consumer stopped reading: Canceled.
          if (!logged) {
            const canceled = req.signal.aborted;
            logger.debug(fields(procedure, started, canceled ? Code.Canceled : "OK", meta), canceled ? "stream canceled" : "stream ended");
          }
        }
      })(),
    };
  };
}

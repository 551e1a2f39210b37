/**
 * What the reference's otelconnect interceptor does, for connect-es: a span
 * per RPC (server side, continuing an incoming `traceparent`; client side,
 * sending one on), with the RPC semantic-convention attributes and the
 * Connect code as status, and the RPC metrics `rpc.server.duration`,
 * `rpc.server.request.size`, `rpc.server.response.size`,
 * `rpc.server.requests_per_rpc` and `rpc.server.responses_per_rpc`.
 * Peer attributes are left out on the server (WithoutServerPeerAttributes).
 */
import { toBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Meter,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { requestMetaKey } from "./request-context.js";

const propagator = new W3CTraceContextPropagator();

const headerGetter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => h.get(key) ?? undefined,
};
const headerSetter: TextMapSetter<Headers> = { set: (h, key, value) => h.set(key, value) };

/** `rpc.system` from the request's content type. */
export function rpcSystem(contentType: string | null): string {
  if (contentType?.startsWith("application/grpc-web")) return "grpc_web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect_rpc";
}

/** Connect's spelling of a code, e.g. "invalid_argument". */
export function connectCodeName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

function codeAttributes(system: string, error: unknown): Attributes {
  const code = error === undefined ? undefined : ConnectError.from(error).code;
  if (system === "connect_rpc") return code === undefined ? {} : { "rpc.connect_rpc.error_code": connectCodeName(code) };
  return { "rpc.grpc.status_code": code ?? 0 };
}

function endSpan(span: Span, attrs: Attributes, error: unknown): void {
  span.setAttributes(attrs);
  if (error !== undefined) {
    const err = ConnectError.from(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.rawMessage });
  }
  span.end();
}

function size(schema: DescMessage, message: unknown): number {
  try {
    return toBinary(schema, message as never).byteLength;
  } catch {
    return 0;
  }
}

/** Runs each step of `iterable` inside `ctx`, so work done while producing an item sees the span. */
async function* inContext<T>(iterable: AsyncIterable<T>, ctx: Context): AsyncGenerator<T> {
  const it = iterable[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      const r = await context.with(ctx, () => it.next());
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}

export function otelServerInterceptor(tracer: Tracer, meter: Meter): Interceptor {
  const duration = meter.createHistogram("rpc.server.duration", { unit: "ms", description: "Duration of inbound RPCs" });
  const requestSize = meter.createHistogram("rpc.server.request.size", { unit: "By", description: "Size of request messages" });
  const responseSize = meter.createHistogram("rpc.server.response.size", { unit: "By", description: "Size of response messages" });
  const requestsPerRpc = meter.createHistogram("rpc.server.requests_per_rpc", { unit: "1", description: "Request messages per RPC" });
  const responsesPerRpc = meter.createHistogram("rpc.server.responses_per_rpc", { unit: "1", description: "Response messages per RPC" });

  return (next) => async (req) => {
    const system = rpcSystem(req.header.get("content-type"));
    const base: Attributes = { "rpc.system": system, "rpc.service": req.service.typeName, "rpc.method": req.method.name };
    const parent = propagator.extract(ROOT_CONTEXT, req.header, headerGetter);
    const span = tracer.startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.SERVER, attributes: base }, parent);
    const ctx = trace.setSpan(parent, span);
    const meta = req.contextValues.get(requestMetaKey);
    if (meta && span.isRecording()) meta.traceId = span.spanContext().traceId;
    const started = performance.now();
    let requests = 0;
    let responses = 0;
    let finished = false;
    const finish = (error: unknown) => {
      if (finished) return;
      finished = true;
      const attrs = { ...base, ...codeAttributes(system, error) };
      duration.record(performance.now() - started, attrs);
      requestsPerRpc.record(requests, attrs);
      responsesPerRpc.record(responses, attrs);
      endSpan(span, codeAttributes(system, error), error);
    };
    const countIn = (message: unknown) => {
      requests++;
      requestSize.record(size(req.method.input, message), base);
    };
    const countOut = (message: unknown) => {
      responses++;
      responseSize.record(size(req.method.output, message), base);
    };

    let call = req;
    if (req.stream) {
      const inner = req.message;
      call = {
        ...req,
        message: (async function* () {
          for await (const m of inner) {
            countIn(m);
            yield m;
          }
        })(),
      };
    } else {
      countIn(req.message);
    }
    let res;
    try {
      res = await context.with(ctx, () => next(call));
    } catch (error) {
      finish(error);
      throw error;
    }
    if (!res.stream) {
      countOut(res.message);
      finish(undefined);
      return res;
    }
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          for await (const m of inContext(inner, ctx)) {
            countOut(m);
            yield m;
          }
          // A watch ends quietly when its client cancels; record that as Canceled, as connect-go does.
          finish(req.signal.aborted ? new ConnectError("the client went away", Code.Canceled) : undefined);
        } catch (error) {
          finish(error);
          throw error;
        } finally {
          // The consumer stopped early: the client went away.
          finish(new ConnectError("the client went away", Code.Canceled));
        }
      })(),
    };
  };
}

/** Client side, for the outgoing ActionsService calls: a CLIENT span, and `traceparent` sent on. */
export function otelClientInterceptor(tracer: Tracer): Interceptor {
  return (next) => async (req) => {
    const system = rpcSystem(req.header.get("content-type"));
    const attrs: Attributes = { "rpc.system": system, "rpc.service": req.service.typeName, "rpc.method": req.method.name };
    const span = tracer.startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.CLIENT, attributes: attrs });
    propagator.inject(trace.setSpan(context.active(), span), req.header, headerSetter);
    try {
      const res = await next(req);
      endSpan(span, codeAttributes(system, undefined), undefined);
      return res;
    } catch (error) {
      endSpan(span, codeAttributes(system, error), error);
      throw error;
    }
  };
}

/**
 * Per-request data shared by the request handler and the interceptors: the
 * request id (the caller's `x-request-id`, or one made here, returned in the
 * response headers either way) and the trace id once a span records.
 */
import { randomUUID } from "node:crypto";
import { createContextKey, type ContextValues } from "@connectrpc/connect";

export const REQUEST_ID_HEADER = "x-request-id";

export interface RequestMeta {
  requestId: string;
  /** Set by the OpenTelemetry interceptor when the call's span is recording. */
  traceId?: string;
}

export const requestMetaKey = createContextKey<RequestMeta | undefined>(undefined, { description: "request id and trace id" });

/** Printable ASCII, at most 128 characters: anything else is replaced by a generated id. */
const ACCEPTABLE_ID = /^[\x21-\x7e]{1,128}$/;

export function requestIdFrom(sent: string | string[] | undefined): string {
  const value = Array.isArray(sent) ? sent[0] : sent;
  return value !== undefined && ACCEPTABLE_ID.test(value) ? value : randomUUID();
}

/**
 * Picks the request id, puts it on the response (as a header set before
 * Connect writes its own, so it accompanies errors too) and in `contextValues`.
 */
export function assignRequestId(
  req: { headers: Record<string, string | string[] | undefined> },
  res: { setHeader(name: string, value: string): unknown },
  contextValues: ContextValues,
): RequestMeta {
  const meta: RequestMeta = { requestId: requestIdFrom(req.headers[REQUEST_ID_HEADER]) };
  res.setHeader(REQUEST_ID_HEADER, meta.requestId);
  contextValues.set(requestMetaKey, meta);
  return meta;
}

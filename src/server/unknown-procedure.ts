// Answers a request for a service or method this server does not have, in
// the caller's protocol:
// - gRPC and gRPC-Web: HTTP 200 with grpc-status 12 (UNIMPLEMENTED) and a
//   grpc-message, as a trailers-only response (on HTTP/2 one HEADERS frame
//   with END_STREAM), as gRPC servers do. A bare HTTP 404 makes gRPC clients
//   report a transport failure ("Received http2 header with status: 404").
// - Connect (unary and streaming): HTTP 404, which Connect clients read as
//   `unimplemented`, with a Connect error body saying so explicitly.
// - Anything else (no RPC content type): a plain 404.

import * as http2 from "node:http2";
import type { NodeServerRequest, NodeServerResponse } from "./request-handler.js";
import { wireProtocolOf } from "./parse-error-code.js";

/** The gRPC status code UNIMPLEMENTED. */
const GRPC_UNIMPLEMENTED = 12;

export interface UnknownProcedureOptions {
  /** Fully-qualified names of the services served, e.g. `flyteidl2.task.TaskService`. */
  services: ReadonlySet<string>;
}

/** The gRPC-style message: "unknown service X" or "unknown method M for service X". */
export function unknownProcedureMessage(path: string, services: ReadonlySet<string>): string {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!match) return `unknown procedure ${path}`;
  const [, service, method] = match;
  return services.has(service) ? `unknown method ${method} for service ${service}` : `unknown service ${service}`;
}

/** Whether a request without a matching route looks like an RPC of some protocol. */
function rpcProtocolOf(req: NodeServerRequest): "grpc" | "grpc-web" | "connect" | undefined {
  const contentType = headerValue(req, "content-type");
  if (contentType !== undefined) {
    const wire = wireProtocolOf(contentType);
    if (wire === "grpc" || wire === "grpc-web") return wire;
    if (wire === "connect-stream" || /^application\/(json|proto)(?:[;+]|$)/i.test(contentType)) return "connect";
  }
  // Connect unary GET: `?connect=v1` (and the optional protocol version header).
  if (headerValue(req, "connect-protocol-version") !== undefined || /[?&]connect=v1(?:&|$)/.test(req.url ?? "")) return "connect";
  return undefined;
}

export function answerUnknownProcedure(req: NodeServerRequest, res: NodeServerResponse, path: string, opts: UnknownProcedureOptions): void {
  const protocol = rpcProtocolOf(req);
  const message = unknownProcedureMessage(path, opts.services);
  switch (protocol) {
    case "grpc":
    case "grpc-web": {
      const headers: Record<string, string> = {
        "content-type": headerValue(req, "content-type") ?? `application/${protocol}`,
        "grpc-status": String(GRPC_UNIMPLEMENTED),
        "grpc-message": encodeURIComponent(message),
      };
      const stream = (res as unknown as Partial<http2.Http2ServerResponse>).stream;
      if (stream && !stream.headersSent) {
        // Trailers-only: status, content type and gRPC status in one HEADERS frame that ends the stream.
        stream.respond({ ...corsHeadersOf(res), [http2.constants.HTTP2_HEADER_STATUS]: 200, ...headers }, { endStream: true });
        return;
      }
      res.writeHead(200, { ...headers, "content-length": "0" });
      res.end();
      return;
    }
    case "connect": {
      const body = Buffer.from(JSON.stringify({ code: "unimplemented", message }), "utf8");
      res.writeHead(404, { "content-type": "application/json", "content-length": String(body.byteLength) });
      res.end(body);
      return;
    }
    default:
      res.writeHead(404);
      res.end();
  }
}

/** Headers set on the compat response before (CORS), which `stream.respond` would otherwise drop. */
function corsHeadersOf(res: NodeServerResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of res.getHeaderNames()) {
    const value = res.getHeader(name);
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return out;
}

function headerValue(req: NodeServerRequest, name: string): string | undefined {
  const v = (req.headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[0] : v;
}

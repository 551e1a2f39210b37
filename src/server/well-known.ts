// GET /.well-known/oauth-authorization-server: the OAuth2 metadata document
// over plain HTTP (RFC 8414 discovery, which SDKs use instead of the RPC).

import { toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { GetOAuth2MetadataResponseSchema } from "#gen/flyteidl2/auth/auth_service_pb.js";
import type { OAuth2MetadataSource } from "../service/oauth2-metadata.js";
import type { NodeServerRequest, NodeServerResponse, PlainHttpHandler } from "./request-handler.js";

export const OAUTH2_METADATA_PATH = "/.well-known/oauth-authorization-server";

/** HTTP status for the Connect codes GetOAuth2Metadata fails with (as the reference's handler). */
export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.Unimplemented:
      return 501;
    case Code.InvalidArgument:
      return 400;
    case Code.Unavailable:
      return 503;
    default:
      return 500;
  }
}

export function oauth2MetadataHandler(source: OAuth2MetadataSource, logger: Logger): PlainHttpHandler {
  return (req: NodeServerRequest, res: NodeServerResponse) => {
    if (req.method !== "GET") {
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n", { Allow: "GET" });
      return;
    }
    // Stop retrying upstream once the client has gone.
    const gone = new AbortController();
    res.once("close", () => gone.abort(new ConnectError("client closed the request", Code.Canceled)));
    source.get(gone.signal).then(
      (doc) => send(res, 200, "application/json", toJsonString(GetOAuth2MetadataResponseSchema, doc)),
      (reason: unknown) => {
        const error = ConnectError.from(reason);
        if (gone.signal.aborted) return;
        if (error.code !== Code.Unimplemented) logger.warn({ err: error }, "serving OAuth2 metadata failed");
        send(res, httpStatusOf(error.code), "text/plain; charset=utf-8", `${error.rawMessage}\n`);
      },
    );
  };
}

function send(res: NodeServerResponse, status: number, type: string, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    res.end();
    return;
  }
  const body = Buffer.from(text, "utf8");
  res.writeHead(status, { "Content-Type": type, "Content-Length": String(body.byteLength), ...extra });
  res.end(body);
}

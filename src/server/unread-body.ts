// Request bodies a handler answered without reading to the end: what the
// connection (HTTP/1.1) or the stream (HTTP/2) does with the rest.

import * as http from "node:http";
import * as http2 from "node:http2";
import type { Logger } from "pino";

/** Unread request body an HTTP/1.1 connection may discard to stay reusable (Go: 256 KiB). */
const MAX_DRAIN_BYTES = 256 * 1024;
/** Unread request body an HTTP/2 stream discards before it is reset with NO_ERROR. */
const H2_MAX_DRAIN_BYTES = 16 * 1024 * 1024;
/** How long such an HTTP/2 stream may stay half-open before that reset. */
const H2_UNREAD_LINGER_MS = 1_000;
/**
 * The same while shutting down: a bidi stream ended by shutdown (an executor's
 * stream, whose client keeps sending) is reset this soon after its trailers,
 * so that such streams do not hold the exit for a whole linger period.
 */
const H2_UNREAD_LINGER_CLOSING_MS = 100;

/** What drainUnreadH2Body needs of the server: whether it is closing, and where to register a stream's "hurry". */
export interface UnreadH2Context {
  closing(): boolean;
  /** Called at close: each shortens its stream's linger to H2_UNREAD_LINGER_CLOSING_MS. */
  lingering: Set<() => void>;
}

/**
 * A handler may answer without reading the whole request body (an oversized
 * message is refused from its length prefix). An HTTP/1.1 connection can
 * only carry the next request once that body is off the wire. Like Go's
 * net/http: if at most MAX_DRAIN_BYTES are left, read and discard them after
 * the response and keep the connection; otherwise answer with
 * `Connection: close` so the client does not reuse it.
 */
export function handleUnreadBody(req: http.IncomingMessage, res: http.ServerResponse, log: Logger): void {
  const socket = req.socket;
  const writeHead = res.writeHead;
  res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
    // (`complete` is still false for a body-less request answered at once.)
    if (!req.complete && !this.headersSent) {
      const length = req.headers["transfer-encoding"]
        ? Infinity
        : Number(req.headers["content-length"] ?? 0);
      if (!(length <= MAX_DRAIN_BYTES)) {
        this.setHeader("Connection", "close");
      }
    }
    return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  res.once("finish", () => {
    if (req.complete || req.destroyed) return;
    let drained = 0;
    req.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > MAX_DRAIN_BYTES) {
        log.debug({ drained }, "unread request body too large, closing the connection");
        socket.destroy();
      }
    });
    req.resume();
  });
}

/**
 * HTTP/2 counterpart of handleUnreadBody: once our side of the stream is
 * done while the client is still sending, read and discard the rest, and
 * after H2_UNREAD_LINGER_MS (or H2_MAX_DRAIN_BYTES) ask the client to stop
 * without error (RFC 9113 §8.1), as Go's HTTP/2 server does. Resetting at
 * once would make connect-node clients report "Premature close" instead of
 * the error they were sent; doing nothing leaves the stream half-open, and
 * connect-node clients never finish such a request body on their own.
 * (The compat response's "finish" only fires once both sides are closed,
 * hence the stream's own event.)
 */
export function drainUnreadH2Body(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, server: UnreadH2Context): void {
  const stream = res.stream;
  stream.once("finish", () => {
    if (stream.readableEnded || stream.destroyed) return;
    const reset = () => {
      clearTimeout(timer);
      if (!stream.destroyed && !stream.closed) {
        stream.close(http2.constants.NGHTTP2_NO_ERROR);
      }
      // The stream only closes once its readable side is released. A reader
      // that stopped midway (a bidi handler ended by shutdown) keeps the
      // unread data buffered, and "data" listeners do not flow while it is
      // attached; that rest is discarded anyway, so release it.
      setImmediate(() => {
        if (!stream.destroyed) stream.destroy();
      });
    };
    let timer = setTimeout(reset, server.closing() ? H2_UNREAD_LINGER_CLOSING_MS : H2_UNREAD_LINGER_MS).unref();
    const hurry = () => {
      clearTimeout(timer);
      timer = setTimeout(reset, H2_UNREAD_LINGER_CLOSING_MS).unref();
    };
    server.lingering.add(hurry);
    stream.once("close", () => {
      clearTimeout(timer);
      server.lingering.delete(hurry);
    });
    let drained = 0;
    req.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > H2_MAX_DRAIN_BYTES) reset();
    });
    req.resume();
  });
}

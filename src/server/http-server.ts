// One TCP listener serving HTTP/2 cleartext with prior knowledge (gRPC,
// `buf curl --http2-prior-knowledge`, connect-node's HTTP/2 transports) and
// HTTP/1.1 (browsers, curl, Connect JSON over 1.1) on the same port, like the
// Go reference's `h2c.NewHandler(mux, &http2.Server{})`.
//
// Node's `http2.createServer` cannot fall back to HTTP/1.1 on cleartext
// connections (only the TLS server can, via ALPN), so connections are accepted
// by a plain `net.Server`, the first bytes are inspected, and the socket is
// handed to either an `http2` or an `http` server that never listens itself.
//
// Graceful close (`close()`): stop accepting at once, send GOAWAY on HTTP/2
// sessions, close idle HTTP/1.1 keep-alive sockets, let in-flight requests
// finish, and destroy whatever is left after `graceMs`. Sockets and sessions
// are tracked here because `http2.Server#close()` does not end open streams.

import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { NodeHandlerFn, NodeServerResponse } from "./request-handler.js";
import { drainUnreadH2Body, handleUnreadBody } from "./unread-body.js";
import type { Logger } from "pino";

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

const DEFAULT_GRACE_MS = 30_000;
const DEFAULT_PEEK_TIMEOUT_MS = 30_000;
/** How long a closing connection may stay half-open after our FIN. */
const HALF_OPEN_LINGER_MS = 1_000;

export interface StartHttpServerOptions {
  host: string;
  /** 0 picks a free port; the chosen one is reported in `RunningHttpServer.port`. */
  port: number;
  handler: NodeHandlerFn;
  logger: Logger;
  /**
   * How long a new connection may stay silent before its protocol is known.
   * Defaults to 30 s.
   */
  protocolDetectTimeoutMs?: number;
}

export interface CloseOptions {
  /** Time given to in-flight requests before remaining connections are destroyed. Default 30 s. */
  graceMs?: number;
}

export interface RunningHttpServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  host: string;
  /** Graceful shutdown; resolves once the listener and every connection are closed. */
  close(opts?: CloseOptions): Promise<void>;
}

type Protocol = "detecting" | "h1" | "h2";

interface ConnState {
  protocol: Protocol;
  /** HTTP/1.1 only: responses not yet finished on this socket. */
  inflight: Set<http.ServerResponse>;
}

export async function startHttpServer(opts: StartHttpServerOptions): Promise<RunningHttpServer> {
  const log = opts.logger;
  const detectTimeoutMs = opts.protocolDetectTimeoutMs ?? DEFAULT_PEEK_TIMEOUT_MS;

  const conns = new Map<net.Socket, ConnState>();
  const sessions = new Set<http2.ServerHttp2Session>();
  /** Open streams per session (path#id), reported when the grace period runs out. */
  const openStreams = new WeakMap<http2.ServerHttp2Session, Set<string>>();
  /** HTTP/2 streams answered while their client still sends: shortens their linger at close. */
  const lingering = new Set<() => void>();
  let closing = false;
  const unreadH2 = { closing: () => closing, lingering };
  let allClosed: (() => void) | undefined;

  // --- HTTP/1.1 -------------------------------------------------------------
  const h1 = http.createServer();
  // Malformed requests and header/request timeouts get Node's default
  // handling (400/408/431 and close), as there is no "clientError" listener.
  h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    const state = conns.get(socket);
    if (state) {
      state.inflight.add(res);
      res.once("close", () => {
        state.inflight.delete(res);
        if (closing && state.inflight.size === 0 && !socket.destroyed) {
          // The response is flushed to the socket; let the peer see FIN.
          socket.end();
        }
      });
    }
    if (closing && !res.headersSent) {
      res.setHeader("Connection", "close");
    }
    handleUnreadBody(req, res, log);
    opts.handler(req, res as NodeServerResponse);
  });
  // Node only starts tracking connections (which enforces headersTimeout and
  // requestTimeout, the slowloris protections) once the server emits
  // "listening". This server never listens itself, so announce it.
  h1.emit("listening");

  // --- HTTP/2 ---------------------------------------------------------------
  const h2 = http2.createServer();
  h2.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    drainUnreadH2Body(req, res, unreadH2);
    opts.handler(req, res as unknown as NodeServerResponse);
  });
  h2.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    const streams = new Set<string>();
    openStreams.set(session, streams);
    session.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
      const label = `${headers[":path"]}#${stream.id}`;
      streams.add(label);
      stream.once("close", () => streams.delete(label));
    });
    session.once("close", () => sessions.delete(session));
    if (closing) {
      session.close();
    }
  });
  h2.on("sessionError", (err: Error) => {
    log.debug({ err: err.message }, "http/2 session error");
  });

  // --- Listener and protocol detection --------------------------------------
  const listener = net.createServer({ noDelay: true }, (socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const state: ConnState = { protocol: "detecting", inflight: new Set() };
    conns.set(socket, state);
    socket.on("error", (err: NodeJS.ErrnoException) => {
      log.debug({ err: err.message, code: err.code, protocol: state.protocol }, "connection error");
    });
    socket.once("close", () => {
      conns.delete(socket);
      maybeAllClosed();
    });
    detectProtocol(socket, state);
  });

  function detectProtocol(socket: net.Socket, state: ConnState): void {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("timeout", onTimeout);
      socket.setTimeout(0);
    };
    const onEnd = () => {
      cleanup();
      socket.destroy();
    };
    const onTimeout = () => {
      log.debug("connection sent nothing before the protocol detection timeout");
      cleanup();
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
      const n = Math.min(head.length, H2_PREFACE.length);
      const matchesSoFar = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (matchesSoFar && head.length < H2_PREFACE.length) {
        return; // a prefix of the preface: wait for more bytes
      }
      cleanup();
      socket.pause();
      socket.unshift(head);
      if (matchesSoFar) {
        state.protocol = "h2";
        // The HTTP/2 session drains the socket's JS buffer (our unshifted
        // bytes) itself, then reads from the handle. Resuming here would
        // emit those bytes as "data" events nobody consumes.
        h2.emit("connection", socket);
      } else {
        state.protocol = "h1";
        // The HTTP/1.1 parser reads new bytes from the handle directly, but
        // the unshifted ones sit in the JS buffer and only reach its "data"
        // listener once the socket flows again (on the next tick, i.e.
        // before any further network read).
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.setTimeout(detectTimeoutMs, onTimeout);
  }

  function maybeAllClosed(): void {
    if (closing && conns.size === 0 && allClosed) {
      const done = allClosed;
      allClosed = undefined;
      done();
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    listener.once("error", onError);
    listener.listen({ host: opts.host, port: opts.port }, () => {
      listener.off("error", onError);
      resolve();
    });
  });
  listener.on("error", (err) => log.error({ err }, "http listener error"));

  const address = listener.address() as net.AddressInfo;
  log.debug({ host: opts.host, port: address.port }, "http server listening (HTTP/1.1 and h2c)");

  let closePromise: Promise<void> | undefined;
  let forceTimer: NodeJS.Timeout | undefined;

  function destroyEverything(): void {
    for (const session of sessions) {
      session.destroy();
    }
    for (const socket of conns.keys()) {
      socket.destroy();
    }
  }

  /**
   * Once we have ended our side of a connection (HTTP/1.1 after the last
   * response, HTTP/2 after GOAWAY and the last stream), Node waits for the peer
   * to close its side. Do not let a half-open peer hold shutdown for the whole
   * grace period: destroy the socket shortly after our FIN was flushed.
   */
  function reapAfterFinish(socket: net.Socket): void {
    const reap = () => setTimeout(() => socket.destroy(), HALF_OPEN_LINGER_MS).unref();
    if (socket.writableFinished) {
      reap();
    } else {
      socket.once("finish", reap);
    }
  }

  function close(closeOpts?: CloseOptions): Promise<void> {
    const graceMs = Math.max(0, closeOpts?.graceMs ?? DEFAULT_GRACE_MS);
    if (closePromise) {
      // A second call may only shorten the grace period.
      if (closeOpts?.graceMs !== undefined) {
        setTimeout(destroyEverything, graceMs).unref();
      }
      return closePromise;
    }
    closing = true;
    log.info({ graceMs, connections: conns.size }, "http server closing");

    const listenerClosed = new Promise<void>((resolve) => listener.close(() => resolve()));
    const connectionsClosed = new Promise<void>((resolve) => {
      allClosed = resolve;
    });

    for (const [socket, state] of conns) {
      reapAfterFinish(socket);
      switch (state.protocol) {
        case "detecting":
          socket.destroy();
          break;
        case "h1":
          if (state.inflight.size === 0) {
            socket.destroy(); // idle keep-alive connection
          } else {
            for (const res of state.inflight) {
              if (!res.headersSent) {
                res.setHeader("Connection", "close");
              }
            }
          }
          break;
        case "h2":
          // Handled through `sessions` below.
          break;
      }
    }
    for (const session of sessions) {
      // Sends GOAWAY; existing streams may finish, new ones are refused.
      session.close();
    }
    for (const hurry of lingering) hurry();

    forceTimer = setTimeout(() => {
      if (conns.size > 0) {
        const protocols = [...conns.values()].map((c) => c.protocol);
        const h2Sessions = [...sessions].map((s) => ({ closed: s.closed, destroyed: s.destroyed, openStreams: openStreams.get(s)?.size ?? 0, paths: [...(openStreams.get(s) ?? [])] }));
        log.warn({ connections: conns.size, protocols, h2Sessions }, "grace period over, destroying remaining connections");
      }
      destroyEverything();
    }, graceMs);
    forceTimer.unref();
    maybeAllClosed();

    closePromise = Promise.all([listenerClosed, connectionsClosed]).then(() => {
      clearTimeout(forceTimer);
      // Neither server listens; close() only releases their timers.
      h1.close();
      h2.close();
      log.info("http server closed");
    });
    return closePromise;
  }

  return { port: address.port, host: opts.host, close };
}

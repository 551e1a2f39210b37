/**
 * The outgoing side towards flyteidl2.actions.ActionsService (the executor
 * front end): CreateRun enqueues the root action, the abort reconciler asks
 * for aborts. Kept behind a two-method interface so tests can pass a fake.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { connect as connectH2 } from "node:http2";
import {
  ActionsService,
  type AbortRequestSchema,
  type EnqueueRequestSchema,
} from "#gen/flyteidl2/actions/actions_service_pb.js";

export type EnqueueRequestInit = MessageInitShape<typeof EnqueueRequestSchema>;
export type AbortRequestInit = MessageInitShape<typeof AbortRequestSchema>;

export interface CallOptions {
  /** Cancels the call (e.g. on shutdown). */
  signal?: AbortSignal;
}

export interface ActionsClient {
  /** Resolves when the action was accepted; rejects with a ConnectError otherwise. */
  enqueue(req: EnqueueRequestInit, opts?: CallOptions): Promise<void>;
  /** Resolves when the abort was accepted; rejects with a ConnectError otherwise. */
  abort(req: AbortRequestInit, opts?: CallOptions): Promise<void>;
  /** Closes open connections (shutdown); calls after it fail. */
  close?(): void;
}

export interface ActionsClientOptions {
  /** runs.actionsServiceUrl */
  baseUrl: string;
  /**
   * "1.1" works against h2c and HTTP/1.1 servers alike; "2" needs an HTTP/2
   * server. "auto" (the default) uses HTTP/2 for an http:// executor that
   * answers an HTTP/2 connection preface (h2c, as the Go services serve), and
   * HTTP/1.1 otherwise (any https:// URL, or a server that does not).
   */
  httpVersion?: "1.1" | "2" | "auto";
  /** "auto": how long the h2c check waits for the server's answer (ms); default 2 s. */
  probeTimeoutMs?: number;
  /** Per-call deadline (ms); default 10 s, so a hung executor cannot hang CreateRun. */
  timeoutMs?: number;
  /** Client interceptors (tracing). */
  interceptors?: Interceptor[];
}

/**
 * Whether the server at `baseUrl` speaks HTTP/2 over cleartext: it answers
 * the client preface with its SETTINGS. false when it answers otherwise;
 * undefined when it could not be reached (ask again later).
 */
export function probeH2c(baseUrl: string, timeoutMs: number): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const session = connectH2(baseUrl);
    const finish = (result: boolean | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    session.once("remoteSettings", () => finish(true));
    session.once("error", (error: NodeJS.ErrnoException) => {
      const unreachable = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"];
      finish(unreachable.includes(error.code ?? "") ? undefined : false);
    });
    session.once("close", () => finish(false));
  });
}

/** Codes a call gets when the connection or the protocol, rather than the executor, failed. */
const TRANSPORT_CODES = new Set([Code.Unavailable, Code.Unknown, Code.Internal]);

type Client = ReturnType<typeof createClient<typeof ActionsService>>;

function http1Client(baseUrl: string, interceptors: Interceptor[]): Client {
  return createClient(ActionsService, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors }));
}

function http2Client(sessions: Http2SessionManager, interceptors: Interceptor[]): Client {
  return createClient(ActionsService, createConnectTransport({ baseUrl: sessions.authority, httpVersion: "2", sessionManager: sessions, useBinaryFormat: true, interceptors }));
}

export function createActionsClient(opts: ActionsClientOptions): ActionsClient {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const version = opts.httpVersion ?? "auto";
  const interceptors = opts.interceptors ?? [];
  const http1 = http1Client(opts.baseUrl, interceptors);
  let sessions: Http2SessionManager | undefined;
  const http2 = () => http2Client((sessions ??= new Http2SessionManager(opts.baseUrl)), interceptors);
  let pick: () => Promise<Client>;
  // Auto mode: after a failure that may come from the transport, check the protocol again on the next call
  // (an executor redeployed behind the same URL may have changed what it speaks).
  let forget = () => {};
  if (version !== "auto") {
    const fixed = version === "2" ? http2() : http1;
    pick = () => Promise.resolve(fixed);
  } else if (!opts.baseUrl.startsWith("http://")) {
    pick = () => Promise.resolve(http1);
  } else {
    // Decided on the first call; asked again while the server is unreachable or after a transport failure.
    let decided: Promise<Client> | undefined;
    forget = () => {
      decided = undefined;
    };
    pick = () => {
      decided ??= probeH2c(opts.baseUrl, opts.probeTimeoutMs ?? 2000).then((h2) => {
        if (h2 === undefined) decided = undefined;
        return h2 ? http2() : http1;
      });
      return decided;
    };
  }
  const call = async (fn: (client: Client) => Promise<unknown>): Promise<void> => {
    try {
      await fn(await pick());
    } catch (error) {
      if (TRANSPORT_CODES.has(ConnectError.from(error).code)) forget();
      throw error;
    }
  };
  return {
    enqueue: (req, callOpts) => call((c) => c.enqueue(req, { timeoutMs, signal: callOpts?.signal })),
    abort: (req, callOpts) => call((c) => c.abort(req, { timeoutMs, signal: callOpts?.signal })),
    close() {
      sessions?.abort();
    },
  };
}

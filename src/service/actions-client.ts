/**
 * The outgoing side towards flyteidl2.actions.ActionsService (the executor
 * front end): CreateRun enqueues the root action, the abort reconciler asks
 * for aborts. Kept behind a two-method interface so tests can pass a fake.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
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
}

export interface ActionsClientOptions {
  /** runs.actionsServiceUrl */
  baseUrl: string;
  /** "1.1" works against h2c and HTTP/1.1 servers alike. */
  httpVersion?: "1.1" | "2";
  /** Per-call deadline (ms); default 10 s, so a hung executor cannot hang CreateRun. */
  timeoutMs?: number;
}

export function createActionsClient(opts: ActionsClientOptions): ActionsClient {
  const transport = createConnectTransport({
    baseUrl: opts.baseUrl,
    httpVersion: opts.httpVersion ?? "1.1",
    useBinaryFormat: true,
  });
  const client = createClient(ActionsService, transport);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    async enqueue(req, callOpts) {
      await client.enqueue(req, { timeoutMs, signal: callOpts?.signal });
    },
    async abort(req, callOpts) {
      await client.abort(req, { timeoutMs, signal: callOpts?.signal });
    },
  };
}

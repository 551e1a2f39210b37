/**
 * flyteidl2.workflow.InternalRunService: what executors report back —
 * child actions (RecordAction), status changes (UpdateActionStatus) and
 * events (RecordActionEvents), each unary and as a bidi stream.
 *
 * Every RPC answers at the transport level; a failure is reported in the
 * response's google.rpc.Status (code + message). Unary requests are checked
 * against the IDL's rules by the validation interceptor; stream items are
 * checked one by one here, and a bad item only fails its own reply.
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { StatusSchema, type Status } from "#gen/google/rpc/status_pb.js";
import type { ActionRepo } from "../../repository/interfaces/action.js";
import type { TaskSpecRepo } from "../../repository/interfaces/task.js";
import { toConnectError } from "../../rpc/connect-errors.js";
import type { Clock } from "../../util/clock.js";
import { recordActionHandlers } from "./record-action.js";
import { recordEventsHandlers } from "./record-events.js";
import type { MutableStreamGauge, StreamBatchOptions } from "./stream-batches.js";
import { streamHandlers } from "./streams.js";
import { updateStatusHandlers } from "./update-status.js";

export interface InternalRunServiceDeps {
  actions: ActionRepo;
  taskSpecs: TaskSpecRepo;
  clock: Clock;
  logger: Logger;
  /** Recognises "database unreachable" errors (reported as Unavailable). */
  isConnectionError?: (error: unknown) => boolean;
  /** Batching and back-pressure of the bidi streams (defaults in stream-batches.ts). */
  streamBatches?: Partial<StreamBatchOptions>;
  /** Counts items read off the bidi streams and not answered yet. */
  streamGauge?: MutableStreamGauge;
}

export type InternalRunServiceHandlers = Partial<ServiceImpl<typeof InternalRunService>>;

export function createInternalRunService(deps: InternalRunServiceDeps): InternalRunServiceHandlers {
  return {
    ...recordActionHandlers(deps),
    ...updateStatusHandlers(deps),
    ...recordEventsHandlers(deps),
    ...streamHandlers(deps),
  };
}

/**
 * The google.rpc.Status of an outcome: code 0 for success, otherwise the
 * Connect (= gRPC) code and message the error interceptor would have used.
 */
export function statusOf(error: unknown, deps: Pick<InternalRunServiceDeps, "logger" | "isConnectionError">, procedure: string): Status {
  if (error === undefined) return create(StatusSchema);
  const mapped = toConnectError(error, { logger: deps.logger, isConnectionError: deps.isConnectionError ?? (() => false) }, procedure);
  return create(StatusSchema, { code: mapped.code, message: mapped.rawMessage });
}

/** Runs `fn` and returns its outcome as a Status (never throws). */
export async function outcome(
  fn: () => Promise<void>,
  deps: Pick<InternalRunServiceDeps, "logger" | "isConnectionError">,
  procedure: string,
): Promise<Status> {
  try {
    await fn();
    return statusOf(undefined, deps, procedure);
  } catch (error) {
    return statusOf(error, deps, procedure);
  }
}

/** UpdateActionStatus: phase, attempts, cache status and real start of an action, guarded by the repository. */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Timestamp as PbTimestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  UpdateActionStatusResponseSchema,
  type UpdateActionStatusRequest,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import type { ActionKey, PhaseUpdateItem } from "../../repository/interfaces/action.js";
import { fromSecondsNanos, type Timestamp } from "../../repository/timestamps.js";
import type { Clock } from "../../util/clock.js";
import { isTerminalPhase } from "../../repository/transformers/phase.js";
import {
  copyRawField,
  RUN_INFO_OUTPUT,
  RUN_INFO_PRINCIPAL,
  UPDATE_STATUS_OUTPUT,
  UPDATE_STATUS_PRINCIPAL,
  unknownMessageField,
} from "../../repository/transformers/run-info-fields.js";
import { actionKeyOf } from "../run-service/index.js";
import { outcome, type InternalRunServiceDeps, type InternalRunServiceHandlers } from "./index.js";

/**
 * A reported start time; undefined when absent or not after the Unix epoch
 * (a zero-valued timestamp from an executor that had none must not move a
 * start back to 1970 or year 1).
 */
export function reportedStart(ts: PbTimestamp | undefined): Timestamp | undefined {
  if (!ts || ts.seconds <= 0n) return undefined;
  return fromSecondsNanos(ts.seconds, ts.nanos);
}

/**
 * Applies one status; an unknown action or a transition the phase guard
 * refuses is not an error (nothing changes). The end time is the status's,
 * else now when the phase is terminal; a start time earlier than the stored
 * one moves the action's start back (its duration is measured from it).
 *
 * A newer executor (IDL ≥ 2.0.43) also sends a signalled condition's value
 * and who signalled it (fields 3 and 4, unknown to the 2.0.16 IDL); they are
 * kept in the action's RunInfo as the reference keeps them.
 */
export function updateStatusCore(deps: InternalRunServiceDeps): (req: UpdateActionStatusRequest) => Promise<void> {
  const keepSignal = signalKeeper(deps);
  return async (req) => {
    const { key, update } = phaseUpdateOf(req, deps.clock);
    await keepSignal(key, req);
    await deps.actions.updateActionPhase(key, update);
  };
}

/**
 * Stores a signalled condition's value and signaller (UpdateActionStatus
 * fields 3 and 4, sent by executors on IDL 2.0.43 or newer) in the action's
 * RunInfo; nothing to do (and no read) for a status without them.
 */
export function signalKeeper(deps: InternalRunServiceDeps): (key: ActionKey, req: UpdateActionStatusRequest) => Promise<void> {
  return async (key, req) => {
    const output = unknownMessageField(req, UPDATE_STATUS_OUTPUT);
    const principal = unknownMessageField(req, UPDATE_STATUS_PRINCIPAL);
    if (!output && !principal) return;
    const row = await deps.actions.getAction(key);
    const info = row.detailed_info && row.detailed_info.length > 0 ? fromBinary(RunInfoSchema, row.detailed_info) : create(RunInfoSchema);
    if (output) copyRawField(info, output, RUN_INFO_OUTPUT);
    if (principal) copyRawField(info, principal, RUN_INFO_PRINCIPAL);
    await deps.actions.updateActionDetailedInfo(key, toBinary(RunInfoSchema, info));
  };
}

/** The repository update a request asks for; throws InvalidArgument on a bad request. */
export function phaseUpdateOf(req: UpdateActionStatusRequest, clock: Clock): PhaseUpdateItem {
  const key = actionKeyOf(req.actionId);
  const status = req.status;
  if (!status) throw new ConnectError("status is required", Code.InvalidArgument);
  const endTime = status.endTime
    ? fromSecondsNanos(status.endTime.seconds, status.endTime.nanos)
    : isTerminalPhase(status.phase)
      ? clock.now()
      : undefined;
  return {
    key,
    update: {
      phase: status.phase,
      attempts: status.attempts,
      cacheStatus: status.cacheStatus,
      endTime,
      startTime: reportedStart(status.startTime),
    },
  };
}

export function updateStatusHandlers(deps: InternalRunServiceDeps): Pick<InternalRunServiceHandlers, "updateActionStatus"> {
  const update = updateStatusCore(deps);
  return {
    async updateActionStatus(req) {
      const status = await outcome(() => update(req), deps, "InternalRunService/UpdateActionStatus");
      return create(UpdateActionStatusResponseSchema, { actionId: req.actionId, status });
    },
  };
}

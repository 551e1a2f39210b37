/** UpdateActionStatus: phase, attempts and cache status of an action, guarded by the repository. */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  UpdateActionStatusResponseSchema,
  type UpdateActionStatusRequest,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import type { PhaseUpdateItem } from "../../repository/interfaces/action.js";
import { fromSecondsNanos } from "../../repository/timestamps.js";
import type { Clock } from "../../util/clock.js";
import { isTerminalPhase } from "../../repository/transformers/phase.js";
import { actionKeyOf } from "../run-service/index.js";
import { outcome, type InternalRunServiceDeps, type InternalRunServiceHandlers } from "./index.js";

/**
 * Applies one status; an unknown action or a transition the phase guard
 * refuses is not an error (nothing changes). The end time is the status's,
 * else now when the phase is terminal.
 */
export function updateStatusCore(deps: InternalRunServiceDeps): (req: UpdateActionStatusRequest) => Promise<void> {
  return async (req) => {
    const { key, update } = phaseUpdateOf(req, deps.clock);
    await deps.actions.updateActionPhase(key, update);
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
  return { key, update: { phase: status.phase, attempts: status.attempts, cacheStatus: status.cacheStatus, endTime } };
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

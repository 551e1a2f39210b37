/**
 * AbortRun / AbortAction: mark the row ABORTED with a pending abort request,
 * then hand it to the abort reconciler, which calls the executor. Neither RPC
 * calls ActionsService itself, so they answer quickly and the abort survives
 * a restart (the reconciler resumes pending requests at start-up). Aborting
 * a finished run or action answers OK and changes nothing.
 */
import { create } from "@bufbuild/protobuf";
import { AbortActionResponseSchema, AbortRunResponseSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { actionKeyOf, describeKey, runKeyOf, type RunServiceDeps, type RunServiceHandlers } from "./index.js";

export const DEFAULT_ABORT_REASON = "User requested abort";

export function abortHandlers(deps: RunServiceDeps): Pick<RunServiceHandlers, "abortRun" | "abortAction"> {
  const { actions, abortReconciler } = deps;
  const log = deps.logger.child({ rpc: "Abort" });

  function handOver(target: { project: string; domain: string; run: string; action: string; org: string }, reason: string): void {
    if (!abortReconciler) return;
    if (!abortReconciler.push(target, reason)) {
      log.debug({ action: describeKey(target) }, "abort already pending or queue full; the reconciler will pick it up");
    }
  }

  return {
    async abortRun(req) {
      const key = runKeyOf(req.runId);
      // An explicitly empty reason is kept (the field has presence).
      const reason = req.reason ?? DEFAULT_ABORT_REASON;
      const { row, aborted } = await actions.abortRun(key, reason);
      // A finished run already satisfies the request: OK, and the executor is not bothered.
      if (aborted) handOver({ ...key, action: row.name, org: req.runId?.org ?? "" }, reason);
      return create(AbortRunResponseSchema);
    },

    async abortAction(req) {
      const key = actionKeyOf(req.actionId);
      const reason = req.reason !== "" ? req.reason : DEFAULT_ABORT_REASON;
      const { aborted } = await actions.abortAction(key, reason);
      if (aborted) handOver({ ...key, org: req.actionId?.run?.org ?? "" }, reason);
      return create(AbortActionResponseSchema);
    },
  };
}

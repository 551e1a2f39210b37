/** RecordAction: an executor reports a child action (a task, a trace or a condition) of a run. */
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { RecordActionResponseSchema, type RecordActionRequest } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ActionSpecSchema, ActionType, ConditionActionSchema } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import type { NewActionRow } from "../../repository/schema/index.js";
import { fromSecondsNanos } from "../../repository/timestamps.js";
import { RUN_INFO_CONDITION, setRawMessageField } from "../../repository/transformers/run-info-fields.js";
import { TaskSpecStorer, traceSpecToStored } from "../../repository/transformers/task-spec.js";
import { actionKeyOf, describeKey } from "../run-service/index.js";
import { requirePathSegments } from "../storage-path-checks.js";
import { outcome, type InternalRunServiceDeps, type InternalRunServiceHandlers } from "./index.js";
import { newActionRow } from "../../repository/transformers/action-row.js";

function nullIfEmpty(value: string | undefined): string | null {
  return value ? value : null;
}

/** Records one action; throws on failure (the caller turns that into a Status). */
export function recordActionCore(deps: InternalRunServiceDeps): (req: RecordActionRequest) => Promise<void> {
  const build = recordedRowBuilder(deps);
  const log = deps.logger.child({ rpc: "RecordAction" });
  return async (req) => {
    const row = await build(req);
    const { inserted } = await deps.actions.createAction(row);
    if (!inserted) log.debug({ action: describeKey(actionKeyOf(req.actionId)) }, "action already recorded; unchanged");
  };
}

/**
 * The actions row a RecordAction request stores (its task or trace spec
 * stored first); throws on a bad request or a spec that cannot be digested.
 */
export function recordedRowBuilder(deps: InternalRunServiceDeps): (req: RecordActionRequest) => Promise<NewActionRow> {
  const { taskSpecs, clock } = deps;
  // The children of a fan-out share their task spec: its digest is computed once.
  const specStorer = new TaskSpecStorer();
  const log = deps.logger.child({ rpc: "RecordAction" });

  async function storeSpec(stored: () => { digest: string; spec: Uint8Array }, label: string, fatalDigest: boolean): Promise<string> {
    let s;
    try {
      s = stored();
    } catch (error) {
      if (fatalDigest) {
        throw new ConnectError(`failed to digest the ${label}: ${(error as Error).message}`, Code.Internal, undefined, undefined, error);
      }
      log.warn({ err: (error as Error).message }, `could not digest the ${label}`);
      return "";
    }
    try {
      await taskSpecs.put(s.digest, s.spec);
      return s.digest;
    } catch (error) {
      log.warn({ err: (error as Error).message }, `could not store the ${label}; continuing without digest`);
      return "";
    }
  }

  return async (req) => {
    const key = actionKeyOf(req.actionId);
    // The executor derives the action's storage paths from these names.
    requirePathSegments({
      "action_id.run.project": key.project,
      "action_id.run.domain": key.domain,
      "action_id.run.name": key.run,
      "action_id.name": key.action,
    });
    const now = clock.now();
    const row: NewActionRow = newActionRow(
      { project: key.project, domain: key.domain, run_name: key.run, name: key.action, created_at: now },
      { parent_action_name: nullIfEmpty(req.parent), action_group: nullIfEmpty(req.group) },
    );
    const actionSpec = create(ActionSpecSchema, { actionId: req.actionId, inputUri: req.inputUri, group: req.group });
    if (req.parent !== "") actionSpec.parentActionName = req.parent;
    const info = create(RunInfoSchema, { inputsUri: req.inputUri });

    const spec = req.spec;
    switch (spec.case) {
      case "task": {
        const task = spec.value;
        actionSpec.spec = { case: "task", value: task };
        row.action_type = ActionType.TASK;
        const id = task.id;
        if (id) {
          row.task_project = nullIfEmpty(id.project);
          row.task_domain = nullIfEmpty(id.domain);
          row.task_name = nullIfEmpty(id.name);
          row.task_version = nullIfEmpty(id.version);
          row.function_name = id.name;
          row.task_short_name = nullIfEmpty(id.name);
        }
        if (task.spec) {
          const taskSpec = task.spec;
          row.task_type = taskSpec.taskTemplate?.type ?? "";
          if (taskSpec.shortName !== "") row.task_short_name = taskSpec.shortName;
          row.environment_name = nullIfEmpty(taskSpec.environment?.name);
          info.taskSpecDigest = await storeSpec(() => specStorer.toStored(taskSpec), "task spec", true);
        }
        break;
      }
      case "trace": {
        const trace = spec.value;
        actionSpec.spec = { case: "trace", value: trace };
        row.action_type = ActionType.TRACE;
        row.task_name = nullIfEmpty(trace.name);
        row.function_name = trace.name;
        // A trace is reported once it has finished.
        row.phase = ActionPhase.SUCCEEDED;
        // Its own start time orders it after its parent (which is recorded later but started earlier).
        if (trace.startTime) row.created_at = fromSecondsNanos(trace.startTime.seconds, trace.startTime.nanos);
        if (trace.endTime) row.ended_at = fromSecondsNanos(trace.endTime.seconds, trace.endTime.nanos);
        if (trace.spec) {
          const traceSpec = trace.spec;
          info.taskSpecDigest = await storeSpec(() => traceSpecToStored(traceSpec), "trace spec", false);
        }
        info.outputsUri = trace.outputs?.outputUri ?? "";
        break;
      }
      case "condition": {
        // Human in the loop: the executor pauses it until it is signalled. The
        // condition's name is its display name; there is no spec to digest.
        const condition = spec.value;
        actionSpec.spec = { case: "condition", value: condition };
        row.action_type = ActionType.CONDITION;
        row.task_name = nullIfEmpty(condition.name);
        row.function_name = condition.name;
        // Kept in RunInfo as the reference does, for details after the executor forgets it.
        setRawMessageField(info, RUN_INFO_CONDITION, toBinary(ConditionActionSchema, condition));
        break;
      }
      default:
        throw new ConnectError(`unsupported action spec type: ${spec.case ?? "none"}`, Code.InvalidArgument);
    }
    row.action_spec = toBinary(ActionSpecSchema, actionSpec);
    row.detailed_info = toBinary(RunInfoSchema, info);
    return row;
  };
}

export function recordActionHandlers(deps: InternalRunServiceDeps): Pick<InternalRunServiceHandlers, "recordAction"> {
  const record = recordActionCore(deps);
  return {
    async recordAction(req) {
      const status = await outcome(() => record(req), deps, "InternalRunService/RecordAction");
      return create(RecordActionResponseSchema, { actionId: req.actionId, status });
    },
  };
}

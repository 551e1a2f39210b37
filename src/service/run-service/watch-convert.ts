/** Tree node updates of WatchActions → EnrichedAction messages. */
import { create } from "@bufbuild/protobuf";
import { ActionIdentifierSchema, TriggerIdentifierSchema, TriggerNameSchema } from "#gen/flyteidl2/common/identifier_pb.js";
import { TaskIdentifierSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import {
  ActionMetadataSchema,
  ActionSchema,
  ActionStatusSchema,
  ActionType,
  EnrichedActionSchema,
  RunSourceSchema,
  TaskActionMetadataSchema,
  TraceActionMetadataSchema,
  type EnrichedAction,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { RunKey } from "../../repository/interfaces/action.js";
import { conditionMetadataFromRow, executedByFromRow, pbTimestamp } from "../../repository/transformers/action.js";
import { extractFunctionName } from "../../repository/transformers/task.js";
import type { NodeUpdate } from "../run-state/index.js";
import type { ActionStateRow } from "../../repository/interfaces/action.js";
import type { ActionRow } from "../../repository/schema/index.js";

/** What a WatchActions tree keeps per action: the slim row (action_spec only when a whole row was read). */
export type WatchRow = ActionStateRow & Partial<Pick<ActionRow, "action_spec">>;

function runSourceNumber(name: string): number {
  if (name === "") return 0;
  return RunSourceSchema.values.find((v) => v.name === name)?.number ?? 0;
}

/**
 * One node of the tree as the client sees it:
 * - id: the watched run (org "") and the action's name;
 * - status from the row (duration only when > 0);
 * - metadata: parent, group, function name, source, trigger; TASK actions
 *   carry their task id (empty strings for missing parts), type, short name
 *   (the stored one, else the last "." segment of the task name) and
 *   environment; TRACE actions carry the task-name column as trace name,
 *   CONDITION actions their condition name;
 * - meets_filter, and the node's descendant counts by phase (zero counts kept).
 */
export function nodeUpdateToEnrichedAction(run: RunKey, update: NodeUpdate<WatchRow>): EnrichedAction {
  const row = update.node.row;
  const status = create(ActionStatusSchema, {
    phase: row.phase,
    startTime: pbTimestamp(row.created_at),
    attempts: row.attempts,
    cacheStatus: row.cache_status,
  });
  if (row.ended_at !== null) status.endTime = pbTimestamp(row.ended_at);
  if (row.duration_ms !== null && row.duration_ms > 0) status.durationMs = BigInt(row.duration_ms);

  const metadata = create(ActionMetadataSchema, {
    parent: row.parent_action_name ?? "",
    group: row.action_group ?? "",
    funtionName: row.function_name,
    source: runSourceNumber(row.run_source),
    executedBy: executedByFromRow(row),
  });
  if (row.action_type === ActionType.TRACE) {
    metadata.spec = { case: "trace", value: create(TraceActionMetadataSchema, { name: row.task_name ?? "" }) };
  } else if (row.action_type === ActionType.TASK) {
    metadata.spec = {
      case: "task",
      value: create(TaskActionMetadataSchema, {
        id: create(TaskIdentifierSchema, {
          org: "",
          project: row.task_project ?? "",
          domain: row.task_domain ?? "",
          name: row.task_name ?? "",
          version: row.task_version ?? "",
        }),
        taskType: row.task_type,
        shortName: row.task_short_name ?? extractFunctionName(row.task_name ?? "", ""),
      }),
    };
    metadata.environmentName = row.environment_name ?? "";
  } else if (row.action_type === ActionType.CONDITION) {
    // The console offers the signal input only for actions it sees as conditions.
    metadata.spec = { case: "condition", value: conditionMetadataFromRow(row) };
  }
  if (row.trigger_name !== null) {
    metadata.triggerName = row.trigger_name;
    metadata.triggerId = create(TriggerIdentifierSchema, {
      name: create(TriggerNameSchema, {
        org: "",
        project: row.project,
        domain: row.domain,
        name: row.trigger_name,
        taskName: row.trigger_task_name ?? "",
      }),
      revision: row.trigger_revision !== null ? BigInt.asUintN(64, BigInt(row.trigger_revision)) : 0n,
    });
  }

  const counts: Record<number, number> = {};
  for (const [phase, count] of update.node.childPhaseCounts) counts[phase] = count;

  return create(EnrichedActionSchema, {
    action: create(ActionSchema, {
      id: create(ActionIdentifierSchema, {
        run: { org: "", project: run.project, domain: run.domain, name: run.run },
        name: row.name,
      }),
      metadata,
      status,
    }),
    meetsFilter: update.meetsFilter,
    childrenPhaseCounts: counts,
  });
}

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  TaskDetailsSchema,
  TaskIdentifierSchema,
  TaskMetadataSchema,
  TaskSchema,
  TaskSpecSchema,
  TaskSummarySchema,
  TaskTriggersSummarySchema,
  type Task,
  type TaskDetails,
  type TaskIdentifier,
  type TaskMetadata,
  type TaskName,
  type TaskSpec,
  type TaskTriggersSummary,
} from "#gen/flyteidl2/task/task_definition_pb.js";
import {
  ListVersionsResponse_VersionResponseSchema,
  type ListVersionsResponse_VersionResponse,
} from "#gen/flyteidl2/task/task_service_pb.js";
import type { TaskDraft, TaskKey, TaskNameKey, TaskVersionRow } from "../interfaces/task.js";
import type { TaskRow } from "../schema/index.js";
import { decodeAutomationSpec, pbTimestamp } from "./trigger.js";

export function taskKeyOf(id: TaskIdentifier): TaskKey {
  return { project: id.project, domain: id.domain, name: id.name, version: id.version };
}

export function taskNameKeyOf(name: TaskName): TaskNameKey {
  return { project: name.project, domain: name.domain, name: name.name };
}

/**
 * The function part of a task name: the name without its "<environment>."
 * prefix when it has one, otherwise the last dot-separated segment.
 */
export function extractFunctionName(taskName: string, environment: string): string {
  if (environment !== "") {
    const prefix = `${environment}.`;
    if (taskName.startsWith(prefix)) return taskName.slice(prefix.length);
  }
  const segments = taskName.split(".");
  return segments[segments.length - 1];
}

/** The task row of a deploy (org is not stored; empty descriptions are NULL; deployed_by is ''). */
export function taskDraft(id: TaskIdentifier, spec: TaskSpec): TaskDraft {
  const environment = spec.environment?.name ?? "";
  return {
    project: id.project,
    domain: id.domain,
    name: id.name,
    version: id.version,
    environment,
    function_name: extractFunctionName(id.name, environment),
    deployed_by: "",
    task_spec: toBinary(TaskSpecSchema, spec),
    env_description: spec.environment?.description || null,
    short_description: spec.documentation?.shortDescription || null,
  };
}

/**
 * The trigger summary shown with a task: none without triggers; name, state
 * and automation spec of a single trigger; counts otherwise. A stored spec
 * that does not decode drops the summary (the task is still returned).
 */
export function triggersSummaryOf(row: TaskRow): TaskTriggersSummary | undefined {
  if (row.total_triggers === 0) return undefined;
  if (row.total_triggers === 1) {
    let automationSpec;
    try {
      automationSpec = decodeAutomationSpec(row.trigger_automation_spec, "");
    } catch {
      return undefined;
    }
    return create(TaskTriggersSummarySchema, {
      summary: {
        case: "details",
        value: { name: row.trigger_name ?? "", active: row.active_triggers > 0, automationSpec },
      },
    });
  }
  return create(TaskTriggersSummarySchema, {
    summary: { case: "stats", value: { total: row.total_triggers, active: row.active_triggers } },
  });
}

function identifier(row: TaskRow): TaskIdentifier {
  return create(TaskIdentifierSchema, {
    org: "",
    project: row.project,
    domain: row.domain,
    name: row.name,
    version: row.version,
  });
}

function metadata(row: TaskRow): TaskMetadata {
  return create(TaskMetadataSchema, {
    shortName: row.function_name,
    environmentName: row.environment,
    deployedAt: pbTimestamp(row.created_at),
    triggersSummary: triggersSummaryOf(row),
    shortDescription: row.short_description ?? "",
  });
}

/** Decodes a stored TaskSpec; throws a plain Error (an internal error) when it does not decode. */
export function decodeTaskSpec(bytes: Uint8Array | null, what: string): TaskSpec {
  try {
    return fromBinary(TaskSpecSchema, bytes ?? new Uint8Array());
  } catch (error) {
    throw new Error(`${what}: stored task spec does not decode: ${(error as Error).message}`, { cause: error });
  }
}

export function rowToTaskDetails(row: TaskRow): TaskDetails {
  return create(TaskDetailsSchema, {
    taskId: identifier(row),
    metadata: metadata(row),
    spec: decodeTaskSpec(row.task_spec, `task ${row.project}/${row.domain}/${row.name}@${row.version}`),
  });
}

/** List view: metadata and an empty task summary (latest runs are not tracked). */
export function rowToTask(row: TaskRow): Task {
  return create(TaskSchema, {
    taskId: identifier(row),
    metadata: metadata(row),
    taskSummary: create(TaskSummarySchema),
  });
}

export function rowToVersion(row: TaskVersionRow): ListVersionsResponse_VersionResponse {
  return create(ListVersionsResponse_VersionResponseSchema, {
    version: row.version,
    deployedAt: pbTimestamp(row.created_at),
  });
}

/**
 * Request-shape checks shared by the task and trigger handlers. The
 * validation interceptor enforces the IDL's rules before a handler runs;
 * these keep the handlers safe when called without it (tests, in-process
 * callers) and answer InvalidArgument naming the field.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { TriggerName } from "#gen/flyteidl2/common/identifier_pb.js";
import type { TaskIdentifier, TaskName } from "#gen/flyteidl2/task/task_definition_pb.js";
import { NotFoundError } from "../repository/errors.js";
import type { ProjectRepo } from "../repository/interfaces/project.js";

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

/** Throws InvalidArgument unless the message is present. */
export function required<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw invalid(`${path} is required`);
  return value;
}

function nonEmpty(path: string, fields: Record<string, string>): void {
  for (const [name, value] of Object.entries(fields)) {
    if (value === "") throw invalid(`${path}.${name} is required`);
  }
}

export function requireTaskId(id: TaskIdentifier | undefined, path = "task_id"): TaskIdentifier {
  const v = required(id, path);
  nonEmpty(path, { project: v.project, domain: v.domain, name: v.name, version: v.version });
  return v;
}

export function requireTaskName(name: TaskName | undefined, path = "task_name"): TaskName {
  const v = required(name, path);
  nonEmpty(path, { project: v.project, domain: v.domain, name: v.name });
  return v;
}

/** A trigger name; `allowAnyTask` accepts an empty task_name (lookups then match any task). */
export function requireTriggerName(name: TriggerName | undefined, path = "name", allowAnyTask = false): TriggerName {
  const v = required(name, path);
  nonEmpty(path, { project: v.project, domain: v.domain, name: v.name });
  if (!allowAnyTask) nonEmpty(path, { task_name: v.taskName });
  return v;
}

/** A uint64 revision as a safe integer. */
export function revisionNumber(revision: bigint, path = "revision"): number {
  if (revision > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${path} ${revision} is out of range`);
  return Number(revision);
}

/** NotFound `project "X" not found` unless the project exists. */
export async function requireProject(projects: ProjectRepo, project: string): Promise<void> {
  if (!(await projects.exists(project))) throw new NotFoundError(`project ${JSON.stringify(project)} not found`);
}

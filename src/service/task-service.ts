import { clone, create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { TriggerNameSchema } from "#gen/flyteidl2/common/identifier_pb.js";
import { TaskSpecSchema, type TaskIdentifier, type TaskSpec, type TaskTrigger } from "#gen/flyteidl2/task/task_definition_pb.js";
import {
  DeployTaskResponseSchema,
  GetTaskDetailsResponseSchema,
  ListTasksResponse_ListTasksMetadataSchema,
  ListTasksResponseSchema,
  ListVersionsResponseSchema,
  TaskService,
  type ListTasksRequest,
} from "#gen/flyteidl2/task/task_service_pb.js";
import { TriggerSpecSchema } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import type { ProjectRepo } from "../repository/interfaces/project.js";
import type { TaskRepo } from "../repository/interfaces/task.js";
import type { TriggerDraft } from "../repository/interfaces/trigger.js";
import { InvalidArgumentError } from "../repository/errors.js";
import {
  TASK_COLUMNS,
  TASK_VERSION_COLUMNS,
  makeFilter,
  parseListRequest,
  type FilterExpr,
} from "../repository/list/index.js";
import {
  rowToTask,
  rowToTaskDetails,
  rowToVersion,
  taskDraft,
  taskKeyOf,
  taskNameKeyOf,
} from "../repository/transformers/task.js";
import { triggerDraft } from "../repository/transformers/trigger.js";
import { requireProject, requireTaskId, requireTaskName, required } from "./request-checks.js";
import { checkTriggerAutomation } from "./trigger-checks.js";
import { MAX_LONG_DESCRIPTION_BYTES, MAX_SHORT_DESCRIPTION_BYTES, truncateUtf8 } from "./truncate.js";

export interface TaskServiceDeps {
  tasks: TaskRepo;
  /** Deploys are refused for projects that do not exist. */
  projects: ProjectRepo;
}

/** A copy of the spec with its descriptions cut to the stored limits. */
export function truncateSpecDescriptions(spec: TaskSpec): TaskSpec {
  const out = clone(TaskSpecSchema, spec);
  if (out.environment) out.environment.description = truncateUtf8(out.environment.description, MAX_SHORT_DESCRIPTION_BYTES);
  if (out.documentation) {
    out.documentation.shortDescription = truncateUtf8(out.documentation.shortDescription, MAX_SHORT_DESCRIPTION_BYTES);
    out.documentation.longDescription = truncateUtf8(out.documentation.longDescription, MAX_LONG_DESCRIPTION_BYTES);
  }
  return out;
}

/**
 * Validates the triggers of a DeployTask and builds their rows: each gets the
 * task's version, its description cut to 255 bytes, and a normalised
 * automation spec. Every problem is reported before anything is written.
 */
export function buildTaskTriggers(id: TaskIdentifier, triggers: readonly TaskTrigger[]): TriggerDraft[] {
  const seen = new Set<string>();
  return triggers.map((t, i) => {
    if (t.name === "") throw new ConnectError(`triggers[${i}].name is required`, Code.InvalidArgument);
    if (seen.has(t.name)) throw new InvalidArgumentError(`trigger ${JSON.stringify(t.name)} appears more than once`);
    seen.add(t.name);
    checkTriggerAutomation(t.name, t.automationSpec);
    const spec = create(TriggerSpecSchema, {
      active: t.spec?.active ?? false,
      taskVersion: id.version,
      description: truncateUtf8(t.spec?.description ?? "", MAX_SHORT_DESCRIPTION_BYTES),
      inputs: t.spec?.inputs,
      runSpec: t.spec?.runSpec,
    });
    const name = create(TriggerNameSchema, { project: id.project, domain: id.domain, taskName: id.name, name: t.name });
    return triggerDraft(name, spec, t.automationSpec);
  });
}

/** Scope of ListTasks: a project/domain, or everything for an org (org is not stored). */
function taskListScope(req: ListTasksRequest): FilterExpr[] {
  switch (req.scopeBy.case) {
    case "projectId": {
      const p = req.scopeBy.value;
      if (p.name === "" || p.domain === "") {
        throw new ConnectError("project_id.name and project_id.domain are required", Code.InvalidArgument);
      }
      return [makeFilter(TASK_COLUMNS, "project", "eq", [p.name]), makeFilter(TASK_COLUMNS, "domain", "eq", [p.domain])];
    }
    case "org":
      return [];
    default:
      throw new ConnectError("scope_by is required (org or project_id)", Code.InvalidArgument);
  }
}

export function createTaskService(deps: TaskServiceDeps): ServiceImpl<typeof TaskService> {
  const { tasks, projects } = deps;
  return {
    async deployTask(req) {
      const id = requireTaskId(req.taskId);
      const spec = truncateSpecDescriptions(required(req.spec, "spec"));
      await requireProject(projects, id.project);
      const triggers = buildTaskTriggers(id, req.triggers);
      await tasks.deploy(taskDraft(id, spec), triggers);
      return create(DeployTaskResponseSchema, {});
    },

    async getTaskDetails(req) {
      const id = requireTaskId(req.taskId);
      const row = await tasks.get(taskKeyOf(id));
      return create(GetTaskDetailsResponseSchema, { details: rowToTaskDetails(row) });
    },

    async listTasks(req) {
      const input = parseListRequest(req.request, TASK_COLUMNS);
      const scope = taskListScope(req);
      const known: FilterExpr[] = [];
      for (const f of req.knownFilters) {
        // is_entrypoint is not tracked, as in the reference.
        if (f.filterBy.case === "deployedBy") known.push(makeFilter(TASK_COLUMNS, "deployed_by", "eq", [f.filterBy.value]));
      }
      const page = await tasks.list({ ...input, filters: [...input.filters, ...known] }, scope);
      return create(ListTasksResponseSchema, {
        tasks: page.rows.map(rowToTask),
        token: page.nextToken,
        metadata: create(ListTasksResponse_ListTasksMetadataSchema, {
          total: page.total,
          filteredTotal: page.filteredTotal,
        }),
      });
    },

    async listVersions(req) {
      const name = requireTaskName(req.taskName);
      const input = parseListRequest(req.request, TASK_VERSION_COLUMNS);
      const page = await tasks.listVersions(taskNameKeyOf(name), input);
      return create(ListVersionsResponseSchema, { versions: page.rows.map(rowToVersion), token: page.nextToken });
    },
  };
}

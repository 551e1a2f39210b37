import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { TriggerName } from "#gen/flyteidl2/common/identifier_pb.js";
import {
  DeleteTriggersResponseSchema,
  DeployTriggerResponseSchema,
  GetTriggerDetailsResponseSchema,
  GetTriggerRevisionDetailsResponseSchema,
  GetTriggerRevisionHistoryResponseSchema,
  ListTriggersResponseSchema,
  TriggerService,
  UpdateTriggersResponseSchema,
  type ListTriggersRequest,
} from "#gen/flyteidl2/trigger/trigger_service_pb.js";
import type { ProjectRepo } from "../repository/interfaces/project.js";
import type { TriggerKey, TriggerRepo } from "../repository/interfaces/trigger.js";
import {
  TRIGGER_COLUMNS,
  TRIGGER_REVISION_COLUMNS,
  makeFilter,
  parseListRequest,
  type FilterExpr,
} from "../repository/list/index.js";
import {
  revisionToTriggerDetails,
  revisionToTriggerRevision,
  rowToTrigger,
  rowToTriggerDetails,
  triggerDraft,
  triggerKeyOf,
} from "../repository/transformers/trigger.js";
import { requireProject, requireTriggerName, required, revisionNumber } from "./request-checks.js";
import { checkTriggerAutomation } from "./trigger-checks.js";

export interface TriggerServiceDeps {
  triggers: TriggerRepo;
  /** Deploys are refused for projects that do not exist. */
  projects: ProjectRepo;
}

function eq(column: string, value: string): FilterExpr {
  return makeFilter(TRIGGER_COLUMNS, column, "eq", [value]);
}

/** Scope of ListTriggers: project/domain, a task version, a task (all versions), or everything for an org. */
function triggerListScope(req: ListTriggersRequest): FilterExpr[] {
  const scope = req.scopeBy;
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new ConnectError(`${what} is required`, Code.InvalidArgument);
  };
  switch (scope.case) {
    case "projectId":
      need(scope.value.name !== "" && scope.value.domain !== "", "project_id.name and project_id.domain");
      return [eq("project", scope.value.name), eq("domain", scope.value.domain)];
    case "taskId": {
      const t = scope.value;
      need(t.project !== "" && t.domain !== "" && t.name !== "" && t.version !== "", "task_id.project, domain, name and version");
      return [eq("project", t.project), eq("domain", t.domain), eq("task_name", t.name), eq("task_version", t.version)];
    }
    case "taskName": {
      const t = scope.value;
      need(t.project !== "" && t.domain !== "" && t.name !== "", "task_name.project, domain and name");
      return [eq("project", t.project), eq("domain", t.domain), eq("task_name", t.name)];
    }
    case "org":
      return [];
    default:
      throw new ConnectError("scope_by is required (org, project_id, task_id or task_name)", Code.InvalidArgument);
  }
}

function keysOf(names: readonly TriggerName[]): TriggerKey[] {
  return names.map((n, i) => triggerKeyOf(requireTriggerName(n, `names[${i}]`)));
}

export function createTriggerService(deps: TriggerServiceDeps): ServiceImpl<typeof TriggerService> {
  const { triggers, projects } = deps;
  return {
    async deployTrigger(req) {
      const name = requireTriggerName(req.name);
      const spec = required(req.spec, "spec");
      if (spec.taskVersion === "") throw new ConnectError("spec.task_version is required", Code.InvalidArgument);
      const expected = revisionNumber(req.revision);
      await requireProject(projects, name.project);
      checkTriggerAutomation(name.name, req.automationSpec);
      const saved = await triggers.save(triggerDraft(name, spec, req.automationSpec), expected);
      return create(DeployTriggerResponseSchema, { trigger: rowToTriggerDetails(saved) });
    },

    async getTriggerDetails(req) {
      const name = requireTriggerName(req.name, "name", true);
      const row = await triggers.get(triggerKeyOf(name));
      return create(GetTriggerDetailsResponseSchema, { trigger: rowToTriggerDetails(row) });
    },

    async getTriggerRevisionDetails(req) {
      const id = required(req.id, "id");
      const name = requireTriggerName(id.name, "id.name");
      const row = await triggers.getRevision(triggerKeyOf(name), revisionNumber(id.revision, "id.revision"));
      return create(GetTriggerRevisionDetailsResponseSchema, { trigger: revisionToTriggerDetails(row) });
    },

    async listTriggers(req) {
      const input = parseListRequest(req.request, TRIGGER_COLUMNS);
      const page = await triggers.list(input, triggerListScope(req));
      return create(ListTriggersResponseSchema, { triggers: page.rows.map(rowToTrigger), token: page.nextToken });
    },

    async getTriggerRevisionHistory(req) {
      const name = requireTriggerName(req.name);
      const input = parseListRequest(req.request, TRIGGER_REVISION_COLUMNS);
      const page = await triggers.listRevisions(triggerKeyOf(name), input);
      return create(GetTriggerRevisionHistoryResponseSchema, {
        triggers: page.rows.map(revisionToTriggerRevision),
        token: page.nextToken,
      });
    },

    async updateTriggers(req) {
      await triggers.setActive(keysOf(req.names), req.active);
      return create(UpdateTriggersResponseSchema, {});
    },

    async deleteTriggers(req) {
      await triggers.delete(keysOf(req.names));
      return create(DeleteTriggersResponseSchema, {});
    },
  };
}

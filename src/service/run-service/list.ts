/** ListRuns (root actions in a scope) and ListActions (the actions of one run). */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RunIdentifierSchema } from "#gen/flyteidl2/common/identifier_pb.js";
import { ListActionsResponseSchema, ListRunsResponseSchema, type ListRunsRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { RunScope } from "../../repository/interfaces/action.js";
import { ACTION_COLUMNS, parseListRequest } from "../../repository/list/index.js";
import { actionRowToAction, runRowToRun } from "../../repository/transformers/action.js";
import { runKeyOf, type RunServiceDeps, type RunServiceHandlers } from "./index.js";

function need(ok: boolean, what: string): void {
  if (!ok) throw new ConnectError(`${what} is required`, Code.InvalidArgument);
}

/** The request's scope_by as a repository scope (org is not stored, so it means "everything"). */
export function runScopeOf(req: ListRunsRequest): RunScope {
  const scope = req.scopeBy;
  switch (scope.case) {
    case "projectId":
      need(scope.value.name !== "" && scope.value.domain !== "", "project_id.name and project_id.domain");
      return { kind: "project", project: scope.value.name, domain: scope.value.domain };
    case "triggerName": {
      const t = scope.value;
      need(t.project !== "" && t.domain !== "" && t.name !== "" && t.taskName !== "", "trigger_name.project, domain, task_name and name");
      return { kind: "trigger", project: t.project, domain: t.domain, taskName: t.taskName, triggerName: t.name };
    }
    case "taskName": {
      const t = scope.value;
      need(t.project !== "" && t.domain !== "" && t.name !== "", "task_name.project, domain and name");
      return { kind: "taskName", project: t.project, domain: t.domain, taskName: t.name };
    }
    case "taskId": {
      const t = scope.value;
      need(t.project !== "" && t.domain !== "" && t.name !== "" && t.version !== "", "task_id.project, domain, name and version");
      return { kind: "taskId", project: t.project, domain: t.domain, taskName: t.name, taskVersion: t.version };
    }
    case "org":
      return { kind: "all" };
    default:
      throw new ConnectError("scope_by is required (org, project_id, trigger_name, task_name or task_id)", Code.InvalidArgument);
  }
}

export function listHandlers(deps: RunServiceDeps): Pick<RunServiceHandlers, "listRuns" | "listActions"> {
  const { actions } = deps;
  return {
    async listRuns(req) {
      const scope = runScopeOf(req);
      const page = await actions.listRuns(scope, parseListRequest(req.request, ACTION_COLUMNS));
      return create(ListRunsResponseSchema, { runs: page.rows.map(runRowToRun), token: page.nextToken });
    },

    async listActions(req) {
      const run = runKeyOf(req.runId);
      const page = await actions.listActions(run, parseListRequest(req.request, ACTION_COLUMNS));
      // One run identifier for every item (the rows' org is not stored: "").
      const runId = create(RunIdentifierSchema, { org: "", project: run.project, domain: run.domain, name: run.run });
      return create(ListActionsResponseSchema, { actions: page.rows.map((row) => actionRowToAction(row, runId)), token: page.nextToken });
    },
  };
}

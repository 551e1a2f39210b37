/** GetRunDetails and GetActionDetails: one row, its events and its spec → details. */
import { create, fromBinary } from "@bufbuild/protobuf";
import { RunSpecSchema, type RunSpec } from "#gen/flyteidl2/task/run_pb.js";
import { ActionSpecSchema, RunDetailsSchema, type ActionDetails } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { GetActionDetailsResponseSchema, GetRunDetailsResponseSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { buildActionDetails, type SpecLoader } from "../../repository/transformers/action-details.js";
import { actionKeyOf, runKeyOf, type RunServiceDeps, type RunServiceHandlers } from "./index.js";

/** The reference reads at most this many events of an action. */
export const MAX_EVENTS_PER_ACTION = 500;

/** Builds an action's details from its row: events and stored spec are read here. */
export function actionDetailsLoader(deps: Pick<RunServiceDeps, "actions" | "taskSpecs">) {
  const loadSpec: SpecLoader = async (digest) => {
    try {
      return (await deps.taskSpecs.get(digest)).spec;
    } catch (error) {
      // A spec that was never stored falls back to the one embedded in action_spec.
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  };
  return async (row: ActionRow): Promise<ActionDetails> => {
    const key = { project: row.project, domain: row.domain, run: row.run_name, action: row.name };
    const events = await deps.actions.listEvents(key, MAX_EVENTS_PER_ACTION);
    return buildActionDetails(row, events, loadSpec);
  };
}

/** The run spec column, else the one inside action_spec; undefined when neither decodes. */
export function runSpecOfRow(row: ActionRow): RunSpec | undefined {
  if (row.run_spec && row.run_spec.length > 0) {
    try {
      return fromBinary(RunSpecSchema, row.run_spec);
    } catch {
      // fall through to the action spec
    }
  }
  if (row.action_spec && row.action_spec.length > 0) {
    try {
      return fromBinary(ActionSpecSchema, row.action_spec).runSpec;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function getDetailsHandlers(deps: RunServiceDeps): Pick<RunServiceHandlers, "getRunDetails" | "getActionDetails"> {
  const details = actionDetailsLoader(deps);
  return {
    async getRunDetails(req) {
      const row = await deps.actions.getRun(runKeyOf(req.runId));
      return create(GetRunDetailsResponseSchema, {
        details: create(RunDetailsSchema, { runSpec: runSpecOfRow(row), action: await details(row) }),
      });
    },

    async getActionDetails(req) {
      const row = await deps.actions.getAction(actionKeyOf(req.actionId));
      return create(GetActionDetailsResponseSchema, { details: await details(row) });
    },
  };
}

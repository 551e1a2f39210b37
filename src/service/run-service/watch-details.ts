/**
 * WatchRunDetails and WatchActionDetails: the details of one run / action,
 * sent again whenever they change, until the run / action has finished.
 */
import { create, equals } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import {
  ActionDetailsSchema,
  RunDetailsSchema,
  type ActionDetails,
  type RunDetails,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { WatchActionDetailsResponseSchema, WatchRunDetailsResponseSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { isTerminalPhase } from "../../repository/transformers/phase.js";
import { actionDetailsLoader, runSpecOfRow } from "./get-details.js";
import { actionKeyOf, runKeyOf, type RunServiceHandlers } from "./index.js";
import { subscribeInbox, type WatchDeps } from "./watch-support.js";

/**
 * Whether nothing more is expected for the action: its row is in a terminal
 * phase and its stored events agree (the newest attempt is terminal too, or
 * there are no events at all), or it was aborted (an aborted action may
 * never report a terminal event).
 */
export function detailsSettled(row: Pick<ActionRow, "phase">, details: Pick<ActionDetails, "attempts">): boolean {
  if (!isTerminalPhase(row.phase)) return false;
  if (row.phase === ActionPhase.ABORTED) return true;
  const last = details.attempts[details.attempts.length - 1];
  return last === undefined || isTerminalPhase(last.phase);
}

export function watchDetailsHandlers(deps: WatchDeps): Pick<RunServiceHandlers, "watchRunDetails" | "watchActionDetails"> {
  const loadDetails = actionDetailsLoader(deps);

  return {
    async *watchRunDetails(req, ctx) {
      const key = runKeyOf(req.runId);
      let rootName: string | undefined;
      // Run events (status, abort) and the root action's own events (attempts).
      const sub = subscribeInbox<true>(deps, { maxPendingKeys: 1 }, (e) =>
        e.project === key.project &&
        e.domain === key.domain &&
        e.run === key.run &&
        (e.kind === "run" || rootName === undefined || e.action === rootName)
          ? { key: "run", value: true }
          : undefined,
      );
      try {
        const build = async (row: ActionRow): Promise<RunDetails> =>
          create(RunDetailsSchema, { runSpec: runSpecOfRow(row), action: await loadDetails(row) });
        let row = await deps.actions.getRun(key); // NotFoundError ⇒ NotFound
        rootName = row.name;
        let details = await build(row);
        yield create(WatchRunDetailsResponseSchema, { details });
        if (detailsSettled(row, details.action!)) return;

        while (await sub.inbox.wait(ctx.signal)) {
          sub.inbox.take();
          row = await deps.actions.getRun(key);
          const next = await build(row);
          if (ctx.signal.aborted) return;
          if (!equals(RunDetailsSchema, next, details)) {
            details = next;
            yield create(WatchRunDetailsResponseSchema, { details });
          }
          if (detailsSettled(row, next.action!)) return;
        }
      } finally {
        sub.close();
      }
    },

    async *watchActionDetails(req, ctx) {
      const key = actionKeyOf(req.actionId);
      const sub = subscribeInbox<true>(deps, { maxPendingKeys: 1 }, (e) =>
        e.kind === "action" && e.project === key.project && e.domain === key.domain && e.run === key.run && e.action === key.action
          ? { key: "action", value: true }
          : undefined,
      );
      try {
        let row: ActionRow;
        let details: ActionDetails;
        try {
          row = await deps.actions.getAction(key);
          details = await loadDetails(row);
        } catch (error) {
          if (error instanceof NotFoundError) {
            throw new ConnectError(`failed to get action details: ${error.message}`, Code.NotFound, undefined, undefined, error);
          }
          throw error;
        }
        yield create(WatchActionDetailsResponseSchema, { details });
        if (detailsSettled(row, details)) return;

        while (await sub.inbox.wait(ctx.signal)) {
          sub.inbox.take();
          row = await deps.actions.getAction(key);
          const next = await loadDetails(row);
          if (ctx.signal.aborted) return;
          if (!equals(ActionDetailsSchema, next, details)) {
            details = next;
            yield create(WatchActionDetailsResponseSchema, { details });
          }
          if (detailsSettled(row, next)) return;
        }
      } finally {
        sub.close();
      }
    },
  };
}

/**
 * WatchClusterEvents: the Kubernetes cluster events recorded in the events of
 * one attempt of an action, oldest first, each sent once, until the action
 * or one of its events is terminal.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ClusterEvent } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { WatchClusterEventsResponseSchema, type WatchClusterEventsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import type { ActionKey, EventCursor } from "../../repository/interfaces/action.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { rowToActionEvent } from "../../repository/transformers/action-events.js";
import { isTerminalPhase } from "../../repository/transformers/phase.js";
import { actionKeyOf, type RunServiceHandlers } from "./index.js";
import { subscribeInbox, watchOptions, type WatchDeps, type WatchOptions } from "./watch-support.js";

/**
 * Reads the events stored after `cursor` (a keyset position, so no event is
 * skipped or repeated however many arrive at once), a page at a time;
 * yields each page's cluster events (when it has any) and advances the
 * cursor. Returns whether one of the events read is terminal.
 */
async function* drainEvents(
  deps: Pick<WatchDeps, "actions">,
  key: ActionKey,
  attempt: number,
  position: { cursor: EventCursor | undefined },
  opts: Pick<WatchOptions, "clusterEventsPageSize">,
  signal: AbortSignal,
): AsyncGenerator<WatchClusterEventsResponse, boolean> {
  let terminal = false;
  for (;;) {
    if (signal.aborted) return terminal;
    // Failures (query, undecodable event) end the stream: Internal, or Unavailable when the database is away.
    const rows = await deps.actions.listEventsAfter(key, attempt, position.cursor, opts.clusterEventsPageSize);
    const clusterEvents: ClusterEvent[] = [];
    for (const row of rows) {
      clusterEvents.push(...rowToActionEvent(row).clusterEvents);
      if (isTerminalPhase(row.phase)) terminal = true;
    }
    if (clusterEvents.length > 0) yield create(WatchClusterEventsResponseSchema, { clusterEvents });
    const last = rows[rows.length - 1];
    if (last) position.cursor = { updatedAt: last.updated_at, phase: last.phase, version: last.version };
    if (rows.length < opts.clusterEventsPageSize) return terminal;
  }
}

export function watchClusterEventsHandlers(deps: WatchDeps): Pick<RunServiceHandlers, "watchClusterEvents"> {
  const opts = watchOptions(deps);
  return {
    async *watchClusterEvents(req, ctx) {
      const key = actionKeyOf(req.id, "id");
      const attempt = req.attempt;
      const sub = subscribeInbox<true>(deps, { maxPendingKeys: 1 }, (e) =>
        e.kind === "action" && e.project === key.project && e.domain === key.domain && e.run === key.run && e.action === key.action
          ? { key: "action", value: true }
          : undefined,
      );
      try {
        let row: ActionRow;
        try {
          row = await deps.actions.getAction(key);
        } catch (error) {
          if (error instanceof NotFoundError) throw new ConnectError(error.message, Code.NotFound, undefined, undefined, error);
          throw error;
        }
        const position: { cursor: EventCursor | undefined } = { cursor: undefined };
        for (;;) {
          const rowTerminal = isTerminalPhase(row.phase);
          const eventTerminal = yield* drainEvents(deps, key, attempt, position, opts, ctx.signal);
          if (rowTerminal || eventTerminal || ctx.signal.aborted) return;
          if (!(await sub.inbox.wait(ctx.signal))) return;
          sub.inbox.take();
          row = await deps.actions.getAction(key);
        }
      } finally {
        sub.close();
      }
    },
  };
}

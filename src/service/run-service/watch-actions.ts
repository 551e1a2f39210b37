/**
 * WatchActions: the actions of one run as a tree, first everything stored,
 * then every change, each message carrying the nodes whose shown state
 * changed (see ../run-state).
 */
import { create } from "@bufbuild/protobuf";
import { WatchActionsResponseSchema, type WatchActionsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import type { ActionKey, RunKey } from "../../repository/interfaces/action.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { compareCreated, parseActionFilters, RunStateManager } from "../run-state/index.js";
import { runKeyOf, type RunServiceHandlers } from "./index.js";
import { nodeUpdateToEnrichedAction } from "./watch-convert.js";
import { SharedReads } from "./watch-shared-reads.js";
import { chunk, mapLimit, subscribeInbox, watchOptions, type WatchDeps, type WatchOptions } from "./watch-support.js";

/** The columns a write changes; equal fingerprints mean "nothing new to show". */
function fingerprint(row: ActionRow): string {
  return `${row.updated_at}|${row.phase}|${row.attempts}|${row.cache_status}|${row.ended_at ?? ""}|${row.duration_ms ?? ""}`;
}

/**
 * The tree of one stream plus what the tree cannot hold yet: actions whose
 * parent has not been seen (kept until it shows up, then inserted in order).
 */
export class ActionTreeFeed {
  private orphans = new Map<string, ActionRow>();

  constructor(
    readonly run: RunKey,
    readonly tree: RunStateManager,
    private readonly maxItemsPerMessage: number,
  ) {}

  /** Orphans waiting for their parent (tests, diagnostics). */
  get waiting(): number {
    return this.orphans.size;
  }

  /** Applies re-read rows; returns the messages to send (none when nothing visible changed). */
  apply(rows: readonly ActionRow[]): WatchActionsResponse[] {
    const candidates = new Map(this.orphans);
    for (const row of rows) {
      const known = this.tree.get(row.name);
      if (known && fingerprint(known.row) === fingerprint(row)) continue;
      candidates.set(row.name, row);
    }
    if (candidates.size === 0) return [];

    // Parents before children: created_at order, then as many passes as the
    // tree's depth needs for rows whose parent sorts after them.
    let remaining = [...candidates.values()].sort(compareCreated);
    const ready: ActionRow[] = [];
    const placed = new Set<string>();
    for (let progress = true; progress && remaining.length > 0; ) {
      progress = false;
      const next: ActionRow[] = [];
      for (const row of remaining) {
        const parent = row.parent_action_name;
        if (this.tree.has(row.name) || !parent || this.tree.has(parent) || placed.has(parent)) {
          ready.push(row);
          placed.add(row.name);
          progress = true;
        } else {
          next.push(row);
        }
      }
      remaining = next;
    }
    this.orphans = new Map(remaining.map((row) => [row.name, row]));

    const updates = this.tree.upsertActions(ready);
    const enriched = updates.map((u) => nodeUpdateToEnrichedAction(this.run, u));
    return chunk(enriched, this.maxItemsPerMessage).map((part) => create(WatchActionsResponseSchema, { enrichedActions: part }));
  }
}

/**
 * Every action of the run in (created_at, name) order, a keyset page at a
 * time (each page applied and sent before the next is read).
 */
async function* relist(
  deps: Pick<WatchDeps, "actions">,
  feed: ActionTreeFeed,
  opts: Pick<WatchOptions, "snapshotPageSize">,
  signal: AbortSignal,
): AsyncGenerator<WatchActionsResponse> {
  let token = "";
  do {
    if (signal.aborted) return;
    const page = await deps.actions.listActions(feed.run, {
      limit: opts.snapshotPageSize,
      token,
      filters: [],
      sort: [{ column: "created_at", direction: "asc" }],
    });
    yield* feed.apply(page.rows);
    token = page.nextToken;
  } while (token !== "");
}

export function watchActionsHandlers(deps: WatchDeps): Pick<RunServiceHandlers, "watchActions"> {
  const opts = watchOptions(deps);
  // Shared by all WatchActions streams of this server: one read per changed action.
  const reads = new SharedReads<ActionRow | undefined>();
  const readAction = async (key: ActionKey): Promise<ActionRow | undefined> => {
    try {
      return await deps.actions.getAction(key);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  };
  return {
    async *watchActions(req, ctx) {
      const run = runKeyOf(req.runId);
      const feed = new ActionTreeFeed(run, new RunStateManager(parseActionFilters(req.filter)), opts.maxItemsPerMessage);
      // Subscribed before the first read: nothing written meanwhile is missed.
      const runPrefix = `${run.project}\n${run.domain}\n${run.run}\n`;
      const sub = subscribeInbox<{ action: string; seenAt: number }>(deps, opts, (e) =>
        e.kind === "action" && e.project === run.project && e.domain === run.domain && e.run === run.run
          ? { key: e.action, value: { action: e.action, seenAt: reads.tick() } }
          : undefined,
      );
      try {
        yield* relist(deps, feed, opts, ctx.signal);
        while (await sub.inbox.wait(ctx.signal)) {
          const batch = sub.inbox.take();
          if (batch.resync || batch.items.length > opts.rescanThreshold) {
            yield* relist(deps, feed, opts, ctx.signal);
            continue;
          }
          const rows = await mapLimit(batch.items, opts.readConcurrency, ({ action, seenAt }) =>
            reads.get(runPrefix + action, seenAt, () => readAction({ ...run, action })),
          );
          if (ctx.signal.aborted) return;
          yield* feed.apply(rows.filter((r): r is ActionRow => r !== undefined));
        }
      } finally {
        sub.close();
      }
    },
  };
}

/**
 * WatchActions: the actions of one run as a tree, first everything stored,
 * then every change, each message carrying the nodes whose shown state
 * changed (see ../run-state).
 */
import type { WatchActionsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { ActionStateCursor, ActionStateRow, RunKey } from "../../repository/interfaces/action.js";
import { compareCreated, parseActionFilters, RunStateManager, type NodeUpdate } from "../run-state/index.js";
import type { WatchRow } from "./watch-convert.js";
import { runKeyOf, type RunServiceHandlers } from "./index.js";
import { nodeUpdateToEnrichedAction } from "./watch-convert.js";
import { SharedReads } from "./watch-shared-reads.js";
import { subscribeInbox, watchOptions, type WatchDeps, type WatchOptions } from "./watch-support.js";
import { watchActionsMessages, type ActionEntry } from "./watch-actions-messages.js";
import { isBinaryCodec } from "./watch-runs-messages.js";

/** Whether two reads of an action show the same state (the columns a write changes). */
function sameState(a: WatchRow, b: WatchRow): boolean {
  return (
    a.updated_at === b.updated_at &&
    a.phase === b.phase &&
    a.attempts === b.attempts &&
    a.cache_status === b.cache_status &&
    a.ended_at === b.ended_at &&
    a.duration_ms === b.duration_ms
  );
}

/**
 * EnrichedActions of childless nodes shown as matching, by row: every
 * WatchActions stream that applies the same row (streams share the rows of
 * their live reads) sends the same message, so it is built once, and encoded
 * once for the binary streams (watch-actions-messages.ts), not once per
 * stream. Only such nodes: their message depends on the row alone. Rows a
 * stream read alone (its snapshot) are not cached: an entry per row of a big
 * run would only add work for the collector (weak-map entries are traced
 * apart from ordinary objects).
 */
export type LeafEntries = WeakMap<WatchRow, ActionEntry>;

function entryOf(run: RunKey, update: NodeUpdate<WatchRow>, leafEntries: LeafEntries | undefined): ActionEntry {
  if (!leafEntries || !update.meetsFilter || update.node.childPhaseCounts.size > 0) return { message: nodeUpdateToEnrichedAction(run, update) };
  let entry = leafEntries.get(update.node.row);
  if (!entry) {
    entry = { message: nodeUpdateToEnrichedAction(run, update), shared: {} };
    leafEntries.set(update.node.row, entry);
  }
  return entry;
}

/**
 * The tree of one stream plus what the tree cannot hold yet: actions whose
 * parent has not been seen (kept until it shows up, then inserted in order).
 */
export class ActionTreeFeed {
  private orphans = new Map<string, WatchRow>();

  constructor(
    readonly run: RunKey,
    readonly tree: RunStateManager<WatchRow>,
    private readonly maxItemsPerMessage: number,
    /** The stream's codec is binary protobuf: shared entries may travel pre-encoded. */
    private readonly binary = false,
    /** The leaf entries every stream of the server shares (see entryOf); none: each stream builds its own. */
    private readonly leafEntries?: LeafEntries,
  ) {}

  /** Orphans waiting for their parent (tests, diagnostics). */
  get waiting(): number {
    return this.orphans.size;
  }

  /**
   * Applies re-read rows; returns the messages to send (none when nothing
   * visible changed). `shared`: the rows are the very objects other streams
   * apply too (live reads), so their leaf messages are worth sharing.
   */
  apply(rows: readonly WatchRow[], shared = false): WatchActionsResponse[] {
    const candidates = new Map(this.orphans);
    for (const row of rows) {
      const known = this.tree.get(row.name);
      if (known && sameState(known.row, row)) continue;
      candidates.set(row.name, row);
    }
    if (candidates.size === 0) return [];

    // Parents before children: created_at order, then as many passes as the
    // tree's depth needs for rows whose parent sorts after them.
    let remaining = [...candidates.values()].sort(compareCreated);
    const ready: WatchRow[] = [];
    const placed = new Set<string>();
    for (let progress = true; progress && remaining.length > 0; ) {
      progress = false;
      const next: WatchRow[] = [];
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
    const entries = updates.map((u) => entryOf(this.run, u, shared ? this.leafEntries : undefined));
    return watchActionsMessages(entries, this.binary, this.maxItemsPerMessage);
  }
}

/**
 * Every action of the run in (created_at, name) order, a keyset page of slim
 * rows at a time. The next page is read while the current one is applied and
 * sent (rows written meanwhile arrive through the subscription, which is
 * older than the first read).
 */
async function* relist(
  deps: Pick<WatchDeps, "actions">,
  feed: ActionTreeFeed,
  opts: Pick<WatchOptions, "snapshotPageSize">,
  signal: AbortSignal,
): AsyncGenerator<WatchActionsResponse> {
  const read = (after: ActionStateCursor | undefined) => deps.actions.listActionStates(feed.run, after, opts.snapshotPageSize);
  let pending: Promise<ActionStateRow[]> | undefined = signal.aborted ? undefined : read(undefined);
  try {
    while (pending) {
      const rows = await pending;
      pending = undefined;
      const last = rows.at(-1);
      if (last && rows.length >= opts.snapshotPageSize && !signal.aborted) pending = read({ createdAt: last.created_at, name: last.name });
      yield* feed.apply(rows);
    }
  } finally {
    // Left early (the client went away): the read ahead may still fail, unobserved.
    pending?.catch(() => undefined);
  }
}

export function watchActionsHandlers(deps: WatchDeps): Pick<RunServiceHandlers, "watchActions"> {
  const opts = watchOptions(deps);
  // Shared by all WatchActions streams of this server: the actions a batch
  // of changes names are read once, with one query per batch, for every
  // stream (and the streams keep the very same row objects).
  const reads = new SharedReads<ActionStateRow | undefined>();
  // Keyed by the shared rows: an entry lives as long as some stream holds its row.
  const leafEntries: LeafEntries = new WeakMap();
  return {
    async *watchActions(req, ctx) {
      const run = runKeyOf(req.runId);
      const binary = isBinaryCodec(ctx.requestHeader.get("content-type"));
      const feed = new ActionTreeFeed(run, new RunStateManager<WatchRow>(parseActionFilters(req.filter)), opts.maxItemsPerMessage, binary, leafEntries);
      // Subscribed before the first read: nothing written meanwhile is missed.
      const runPrefix = `${run.project}\n${run.domain}\n${run.run}\n`;
      const sub = subscribeInbox<{ action: string; seenAt: number }>(deps, opts, (e) =>
        e.kind === "action" && e.project === run.project && e.domain === run.domain && e.run === run.run
          ? { key: e.action, value: { action: e.action, seenAt: reads.tick() } }
          : undefined,
      );
      const loadMany = async (keys: string[]): Promise<Map<string, ActionStateRow>> => {
        const rows = await deps.actions.getActionStates(
          run,
          keys.map((k) => k.slice(runPrefix.length)),
        );
        return new Map(rows.map((r) => [runPrefix + r.name, r]));
      };
      try {
        yield* relist(deps, feed, opts, ctx.signal);
        while (await sub.inbox.wait(ctx.signal)) {
          const batch = sub.inbox.take();
          if (batch.resync || batch.items.length > opts.rescanThreshold) {
            yield* relist(deps, feed, opts, ctx.signal);
            continue;
          }
          const rows = await reads.getMany(
            batch.items.map(({ action, seenAt }) => ({ key: runPrefix + action, seenAt })),
            loadMany,
          );
          if (ctx.signal.aborted) return;
          yield* feed.apply(
            rows.filter((r): r is ActionStateRow => r !== undefined),
            true,
          );
        }
      } finally {
        sub.close();
      }
    },
  };
}

/**
 * WatchRuns: the newest runs of the target first, then every run of the
 * target that is created or changes.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Run } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { WatchRunsResponseSchema, type WatchRunsRequest, type WatchRunsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import type { RunKey, RunScope } from "../../repository/interfaces/action.js";
import { ACTION_COLUMNS, makeFilter } from "../../repository/list/index.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { fromEpochMicros } from "../../repository/timestamps.js";
import { runRowToRun } from "../../repository/transformers/action.js";
import type { RunServiceHandlers } from "./index.js";
import { isBinaryCodec, SharedRun, watchRunsMessages } from "./watch-runs-messages.js";
import { SharedReads } from "./watch-shared-reads.js";
import { afterPendingIo, chunk, mapLimit, subscribeInbox, watchOptions, type WatchDeps, type WatchOptions } from "./watch-support.js";

/** The runs a WatchRuns request covers. */
export interface WatchRunsTarget {
  scope: RunScope;
  /** Whether a run event can concern this target (decided from the key alone). */
  mayMatch(key: RunKey): boolean;
  /** Whether a run row belongs to the target. */
  matches(row: ActionRow): boolean;
}

/**
 * org and cluster_id narrow nothing (org is not stored, runs record no
 * cluster); project_id keeps the runs of one project and domain; task_id the
 * runs of one task (one version when the version is given).
 */
export function watchRunsTarget(req: WatchRunsRequest): WatchRunsTarget {
  const target = req.target;
  switch (target.case) {
    case "projectId": {
      const { name: project, domain } = target.value;
      return {
        scope: { kind: "project", project, domain },
        mayMatch: (k) => k.project === project && k.domain === domain,
        matches: (r) => r.project === project && r.domain === domain,
      };
    }
    case "taskId": {
      const t = target.value;
      if (t.project === "" || t.domain === "" || t.name === "") {
        throw new ConnectError("task_id.project, domain and name are required", Code.InvalidArgument);
      }
      const scope: RunScope =
        t.version !== ""
          ? { kind: "taskId", project: t.project, domain: t.domain, taskName: t.name, taskVersion: t.version }
          : { kind: "taskName", project: t.project, domain: t.domain, taskName: t.name };
      return {
        scope,
        mayMatch: () => true,
        matches: (r) =>
          r.task_project === t.project &&
          r.task_domain === t.domain &&
          r.task_name === t.name &&
          (t.version === "" || r.task_version === t.version),
      };
    }
    default:
      return { scope: { kind: "all" }, mayMatch: () => true, matches: () => true };
  }
}

function runsMessages(runs: readonly Run[], opts: Pick<WatchOptions, "maxItemsPerMessage">): WatchRunsResponse[] {
  return chunk(runs, opts.maxItemsPerMessage).map((part) => create(WatchRunsResponseSchema, { runs: part }));
}

/** A changed run as re-read once for all streams: its row (for the target check) and its message form, encoded once. */
interface ReadRun {
  row: ActionRow;
  run: SharedRun;
}

/** A run event as one stream recorded it: which run, and when (SharedReads clock). */
interface SeenRun {
  key: RunKey;
  seenAt: number;
}

/** The runs of the target changed since `sinceMs` (updated_at order), a page at a time. */
async function* runsUpdatedSince(
  deps: Pick<WatchDeps, "actions">,
  target: WatchRunsTarget,
  sinceMs: number,
  opts: WatchOptions,
  signal: AbortSignal,
): AsyncGenerator<WatchRunsResponse> {
  const since = fromEpochMicros(BigInt(Math.max(0, Math.floor(sinceMs))) * 1000n);
  const filters = [makeFilter(ACTION_COLUMNS, "updated_at", "gte", [since])];
  let token = "";
  do {
    if (signal.aborted) return;
    const page = await deps.actions.listRuns(target.scope, {
      limit: opts.snapshotPageSize,
      token,
      filters,
      sort: [{ column: "updated_at", direction: "asc" }],
    });
    yield* runsMessages(page.rows.map(runRowToRun), opts);
    token = page.nextToken;
  } while (token !== "");
}

const runId = (k: RunKey): string => `${k.project}\n${k.domain}\n${k.run}`;

export function watchRunsHandlers(deps: WatchDeps): Pick<RunServiceHandlers, "watchRuns"> {
  const opts = watchOptions(deps);
  const log = deps.logger;
  // Shared by all WatchRuns streams of this server: one read per changed run.
  const reads = new SharedReads<ReadRun | undefined>();
  const readRun = async (key: RunKey): Promise<ReadRun | undefined> => {
    try {
      const row = await deps.actions.getRun(key);
      return { row, run: new SharedRun(runRowToRun(row)) };
    } catch (error) {
      if (error instanceof NotFoundError) {
        log.debug({ run: key }, "WatchRuns: changed run not found");
        return undefined;
      }
      throw error;
    }
  };

  const snapshot = async (target: WatchRunsTarget): Promise<WatchRunsResponse[]> => {
    const page = await deps.actions.listRuns(target.scope, { limit: opts.runsSnapshotSize, token: "", filters: [], sort: [] });
    return runsMessages(page.rows.map(runRowToRun), opts);
  };

  return {
    async *watchRuns(req, ctx) {
      const target = watchRunsTarget(req);
      // Binary streams get the runs' shared encodings; JSON streams the messages themselves.
      const binary = isBinaryCodec(ctx.requestHeader.get("content-type"));
      const sub = subscribeInbox<SeenRun>(deps, opts, (e) => {
        if (e.kind !== "run") return undefined;
        const key: RunKey = { project: e.project, domain: e.domain, run: e.run };
        return target.mayMatch(key) ? { key: runId(key), value: { key, seenAt: reads.tick() } } : undefined;
      });
      try {
        yield* await snapshot(target);
        while (await sub.inbox.wait(ctx.signal)) {
          // Requests already received first; their changes join this batch.
          await afterPendingIo();
          if (ctx.signal.aborted) return;
          const batch = sub.inbox.take();
          if (batch.resync) {
            if (batch.resyncSinceMs === undefined) {
              yield* await snapshot(target);
            } else {
              yield* runsUpdatedSince(deps, target, batch.resyncSinceMs - opts.resyncMarginMs, opts, ctx.signal);
            }
          }
          // All streams woken by the same events ask at once: one read each, shared.
          const read = await mapLimit(batch.items, opts.readConcurrency, (seen) =>
            reads.get(runId(seen.key), seen.seenAt, () => readRun(seen.key)),
          );
          if (ctx.signal.aborted) return;
          const runs: SharedRun[] = [];
          for (const r of read) if (r !== undefined && target.matches(r.row)) runs.push(r.run);
          yield* watchRunsMessages(runs, binary, opts.maxItemsPerMessage);
        }
      } finally {
        sub.close();
      }
    },
  };
}

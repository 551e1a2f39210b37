/**
 * WatchRuns: the newest runs of the target first, then every run of the
 * target that is created or changes.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { WatchRunsResponseSchema, type WatchRunsRequest, type WatchRunsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import type { RunKey, RunScope } from "../../repository/interfaces/action.js";
import { ACTION_COLUMNS, makeFilter } from "../../repository/list/index.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { fromEpochMicros } from "../../repository/timestamps.js";
import { runRowToRun } from "../../repository/transformers/action.js";
import type { RunServiceHandlers } from "./index.js";
import { chunk, mapLimit, subscribeInbox, watchOptions, type WatchDeps, type WatchOptions } from "./watch-support.js";

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

function runsMessages(rows: readonly ActionRow[], opts: Pick<WatchOptions, "maxItemsPerMessage">): WatchRunsResponse[] {
  return chunk(rows.map(runRowToRun), opts.maxItemsPerMessage).map((runs) => create(WatchRunsResponseSchema, { runs }));
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
    yield* runsMessages(page.rows, opts);
    token = page.nextToken;
  } while (token !== "");
}

export function watchRunsHandlers(deps: WatchDeps): Pick<RunServiceHandlers, "watchRuns"> {
  const opts = watchOptions(deps);
  const log = deps.logger;

  const snapshot = async (target: WatchRunsTarget): Promise<WatchRunsResponse[]> => {
    const page = await deps.actions.listRuns(target.scope, { limit: opts.runsSnapshotSize, token: "", filters: [], sort: [] });
    return runsMessages(page.rows, opts);
  };

  return {
    async *watchRuns(req, ctx) {
      const target = watchRunsTarget(req);
      const sub = subscribeInbox<RunKey>(deps, opts, (e) => {
        if (e.kind !== "run") return undefined;
        const key: RunKey = { project: e.project, domain: e.domain, run: e.run };
        return target.mayMatch(key) ? { key: `${e.project}\n${e.domain}\n${e.run}`, value: key } : undefined;
      });
      try {
        yield* await snapshot(target);
        while (await sub.inbox.wait(ctx.signal)) {
          const batch = sub.inbox.take();
          if (batch.resync) {
            if (batch.resyncSinceMs === undefined) {
              yield* await snapshot(target);
            } else {
              yield* runsUpdatedSince(deps, target, batch.resyncSinceMs - opts.resyncMarginMs, opts, ctx.signal);
            }
          }
          const rows = await mapLimit(batch.items, opts.readConcurrency, async (key) => {
            try {
              return await deps.actions.getRun(key);
            } catch (error) {
              if (error instanceof NotFoundError) {
                log.debug({ run: key }, "WatchRuns: changed run not found");
                return undefined;
              }
              throw error;
            }
          });
          if (ctx.signal.aborted) return;
          yield* runsMessages(
            rows.filter((r): r is ActionRow => r !== undefined && target.matches(r)),
            opts,
          );
        }
      } finally {
        sub.close();
      }
    },
  };
}

/**
 * WatchGroups: runs grouped by task, with per-group statistics. The first
 * message holds every group (sentinel = true); with an end date the stream
 * ends there, otherwise each later message holds the groups that changed.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp as PbTimestamp } from "@bufbuild/protobuf/wkt";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import {
  TaskGroup_PhaseCountsSchema,
  TaskGroup_RecentStatusSchema,
  TaskGroupSchema,
  type TaskGroup,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { WatchGroupsResponseSchema, type WatchGroupsRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { RunScope } from "../../repository/interfaces/action.js";
import { ACTION_COLUMNS, makeFilter, type FilterExpr } from "../../repository/list/index.js";
import type { ActionRow } from "../../repository/schema/index.js";
import { fromSecondsNanos, toSecondsNanos } from "../../repository/timestamps.js";
import { taskNameOfSpec } from "../run-state/index.js";
import type { RunServiceHandlers } from "./index.js";
import { sleep, subscribeInbox, watchOptions, type WatchDeps, type WatchOptions } from "./watch-support.js";

/** Most recent runs listed per group. */
const RECENT_STATUSES = 10;

interface GroupsQuery {
  project: string;
  domain: string;
  scope: RunScope;
  filters: FilterExpr[];
}

function timestampText(ts: PbTimestamp): string {
  return fromSecondsNanos(ts.seconds, ts.nanos);
}

/** Scope (project_id: project = name, domain; each optional) and creation window (both ends inclusive, each optional). */
export function groupsQuery(req: WatchGroupsRequest): GroupsQuery {
  const project = req.scopeBy.case === "projectId" ? req.scopeBy.value.name : "";
  const domain = req.scopeBy.case === "projectId" ? req.scopeBy.value.domain : "";
  const filters: FilterExpr[] = [];
  let scope: RunScope = { kind: "all" };
  if (project !== "" && domain !== "") {
    scope = { kind: "project", project, domain };
  } else {
    if (project !== "") filters.push(makeFilter(ACTION_COLUMNS, "project", "eq", [project]));
    if (domain !== "") filters.push(makeFilter(ACTION_COLUMNS, "domain", "eq", [domain]));
  }
  if (req.startDate) filters.push(makeFilter(ACTION_COLUMNS, "created_at", "gte", [timestampText(req.startDate)]));
  if (req.endDate) filters.push(makeFilter(ACTION_COLUMNS, "created_at", "lte", [timestampText(req.endDate)]));
  return { project, domain, scope, filters };
}

/**
 * Groups root actions by task: the task name recorded in the action spec
 * (task id name, else the spec's short name), else the action's own name.
 * Per group: number of runs, newest creation time, count per phase (by
 * phase), failure rate (FAILED / total) and the newest runs' phases (newest
 * first). Groups come newest first.
 */
export function buildTaskGroups(rows: readonly ActionRow[]): TaskGroup[] {
  interface Accumulator {
    name: string;
    total: number;
    failed: number;
    latest: string;
    phases: Map<number, number>;
    recent: ActionRow[];
  }
  const groups = new Map<string, Accumulator>();
  for (const row of rows) {
    const name = taskNameOfSpec(row.action_spec) || row.name;
    let g = groups.get(name);
    if (!g) {
      g = { name, total: 0, failed: 0, latest: row.created_at, phases: new Map(), recent: [] };
      groups.set(name, g);
    }
    g.total++;
    if (row.created_at > g.latest) g.latest = row.created_at;
    g.phases.set(row.phase, (g.phases.get(row.phase) ?? 0) + 1);
    if (row.phase === ActionPhase.FAILED) g.failed++;
    g.recent.push(row);
  }
  const newestFirst = (a: { created_at: string; run_name: string }, b: { created_at: string; run_name: string }) =>
    a.created_at !== b.created_at ? (a.created_at < b.created_at ? 1 : -1) : a.run_name < b.run_name ? -1 : 1;
  return [...groups.values()]
    .sort((a, b) => (a.latest !== b.latest ? (a.latest < b.latest ? 1 : -1) : a.name < b.name ? -1 : 1))
    .map((g) =>
      create(TaskGroupSchema, {
        taskName: g.name,
        totalRuns: BigInt(g.total),
        latestRunTime: create(TimestampSchema, toSecondsNanos(g.latest)),
        averageFailureRate: g.total > 0 ? g.failed / g.total : 0,
        phaseCounts: [...g.phases.entries()]
          .sort(([a], [b]) => a - b)
          .map(([phase, count]) => create(TaskGroup_PhaseCountsSchema, { phase, count: BigInt(count) })),
        recentStatuses: g.recent
          .sort(newestFirst)
          .slice(0, RECENT_STATUSES)
          .map((r) => create(TaskGroup_RecentStatusSchema, { runName: r.run_name, phase: r.phase })),
      }),
    );
}

async function loadGroups(deps: Pick<WatchDeps, "actions">, query: GroupsQuery, opts: Pick<WatchOptions, "groupsMaxRuns">): Promise<TaskGroup[]> {
  const page = await deps.actions.listRuns(query.scope, {
    limit: opts.groupsMaxRuns,
    token: "",
    filters: query.filters,
    sort: [{ column: "created_at", direction: "desc" }],
  });
  return buildTaskGroups(page.rows);
}

function groupBytes(groups: readonly TaskGroup[]): Map<string, string> {
  return new Map(groups.map((g) => [g.taskName, Buffer.from(toBinary(TaskGroupSchema, g)).toString("base64")]));
}

export function watchGroupsHandlers(deps: WatchDeps): Pick<RunServiceHandlers, "watchGroups"> {
  const opts = watchOptions(deps);
  const log = deps.logger;
  return {
    async *watchGroups(req, ctx) {
      const query = groupsQuery(req);
      const historical = req.endDate !== undefined;
      const sub = historical
        ? undefined
        : subscribeInbox<true>(deps, { maxPendingKeys: 1 }, (e) =>
            e.kind === "run" && (query.project === "" || e.project === query.project) && (query.domain === "" || e.domain === query.domain)
              ? { key: "runs", value: true }
              : undefined,
          );
      try {
        const groups = await loadGroups(deps, query, opts);
        yield create(WatchGroupsResponseSchema, { taskGroups: groups, sentinel: true });
        if (!sub) return;

        let sent = groupBytes(groups);
        let lastBuild = deps.clock.nowMs();
        while (await sub.inbox.wait(ctx.signal)) {
          // At most one rebuild per interval; changes meanwhile are folded in.
          if (!(await sleep(lastBuild + opts.groupsMinIntervalMs - deps.clock.nowMs(), ctx.signal))) return;
          sub.inbox.take();
          lastBuild = deps.clock.nowMs();
          let next: TaskGroup[];
          try {
            next = await loadGroups(deps, query, opts);
          } catch (error) {
            if (ctx.signal.aborted) return;
            log.warn({ err: error }, "WatchGroups: cannot refresh task groups");
            sub.inbox.requestResync();
            continue;
          }
          if (ctx.signal.aborted) return;
          const bytes = groupBytes(next);
          const changed = next.filter((g) => sent.get(g.taskName) !== bytes.get(g.taskName));
          sent = bytes;
          if (changed.length > 0) yield create(WatchGroupsResponseSchema, { taskGroups: changed, sentinel: false });
        }
      } finally {
        sub?.close();
      }
    },
  };
}

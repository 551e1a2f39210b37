// The Watch* handlers called directly (no server) with small tunables: paging, overflow, resync, orphans.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import type { EnrichedAction } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import {
  WatchActionsRequestSchema,
  WatchActionsResponseSchema,
  WatchRunsRequestSchema,
  WatchRunsResponseSchema,
  type WatchActionsResponse,
  type WatchRunsResponse,
} from "#gen/flyteidl2/workflow/run_service_pb.js";
import { createInProcessBus, type EventBus } from "../../src/events/bus.js";
import type { ActionRepo, ActionStateCursor, RunKey } from "../../src/repository/interfaces/action.js";
import { createRepository, type Repository } from "../../src/repository/index.js";
import { createWatchHandlers, type WatchOptions } from "../../src/service/run-service/watch.js";
import { systemClock } from "../../src/util/clock.js";
import { DOMAIN, PROJECT, taskRow } from "../api/watch-helpers.js";
import { openMigratedDatabase, quietLogger, testDialects } from "../support/databases.js";

const clock = systemClock();
let unique = 0;
const newRun = () => `rh${Date.now().toString(36)}${unique++}`;
const runId = (name: string) => ({ org: "o", project: PROJECT, domain: DOMAIN, name });

/** A WatchRuns message as a binary client decodes it (live updates travel pre-encoded: watch-runs-messages.ts). */
const received = (m: unknown) =>
  m === undefined ? undefined : fromBinary(WatchRunsResponseSchema, toBinary(WatchRunsResponseSchema, m as WatchRunsResponse));

/** A WatchActions message as a binary client decodes it (shared entries travel pre-encoded: watch-actions-messages.ts). */
const receivedActions = (m: WatchActionsResponse) => fromBinary(WatchActionsResponseSchema, toBinary(WatchActionsResponseSchema, m));

/** Reads a handler's stream by hand: nothing is read unless asked (a stalled client); WatchActions messages decoded. */
function open<T>(stream: AsyncIterable<T>) {
  const it = stream[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  return {
    /** The next message, or undefined when none comes within `ms` (a later call still gets it). */
    async next(ms = 2000): Promise<T | undefined> {
      pending ??= it.next();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
      const result = await Promise.race([pending, timeout]);
      clearTimeout(timer);
      if (!result) return undefined;
      pending = undefined;
      if (result.done) return undefined;
      const m = result.value as { $typeName?: string };
      return (m.$typeName === WatchActionsResponseSchema.typeName ? receivedActions(m as WatchActionsResponse) : m) as T;
    },
    close: () => it.return?.(undefined),
  };
}

function latest(messages: WatchActionsResponse[]): Map<string, EnrichedAction> {
  const out = new Map<string, EnrichedAction>();
  for (const m of messages) for (const a of m.enrichedActions) out.set(a.action!.id!.name, a);
  return out;
}

describe.each(await testDialects())("Watch handlers on %s", (kind) => {
  let db: Awaited<ReturnType<typeof openMigratedDatabase>>;
  let bus: EventBus;
  let repo: Repository;
  /** Writes that nobody hears about (as if another process's NOTIFY was lost). */
  let silent: Repository;

  beforeAll(async () => {
    db = await openMigratedDatabase(kind);
    bus = createInProcessBus();
    repo = createRepository(db.handle, clock, bus);
    silent = createRepository(db.handle, clock);
  });
  afterAll(async () => {
    await db?.drop();
  });

  function handlers(watch: Partial<WatchOptions>, actions: ActionRepo = repo.actions) {
    return createWatchHandlers({ actions, taskSpecs: repo.taskSpecs, bus, clock, logger: quietLogger, watch });
  }

  function context(): { ctx: HandlerContext; abort(): void } {
    const controller = new AbortController();
    // A binary (Connect protobuf) call, as Connect gives it.
    const requestHeader = new Headers({ "content-type": "application/connect+proto" });
    return { ctx: { signal: controller.signal, requestHeader } as HandlerContext, abort: () => controller.abort() };
  }

  it("pages the snapshot by (created_at, name) ascending and sends every action", async () => {
    const run = newRun();
    await repo.actions.createAction(taskRow(run, "a0", null));
    for (let i = 0; i < 10; i++) await repo.actions.createAction(taskRow(run, `c${i}`, "a0"));
    const requests: { after: ActionStateCursor | undefined; limit: number }[] = [];
    const spy: ActionRepo = {
      ...repo.actions,
      listActionStates: (key: RunKey, after: ActionStateCursor | undefined, limit: number) => {
        requests.push({ after, limit });
        return repo.actions.listActionStates(key, after, limit);
      },
    };
    const { ctx, abort } = context();
    const s = open(handlers({ snapshotPageSize: 3 }, spy).watchActions!(create(WatchActionsRequestSchema, { runId: runId(run) }), ctx));
    const seen: WatchActionsResponse[] = [];
    while (latest(seen).size < 11) {
      const m = await s.next();
      if (!m) throw new Error(`only ${latest(seen).size} actions arrived`);
      seen.push(m as WatchActionsResponse);
    }
    expect(requests).toHaveLength(4);
    expect(requests[0].after).toBeUndefined();
    // Keyset: each page starts after the last action of the one before (c1 is the 3rd action, c4 the 6th).
    expect(requests.slice(1).map((r) => r.after?.name)).toEqual(["c1", "c4", "c7"]);
    expect(requests.map((r) => r.limit)).toEqual([3, 3, 3, 3]);
    expect(latest(seen).get("a0")!.childrenPhaseCounts).toEqual({ [ActionPhase.QUEUED]: 10 });
    abort();
    await s.close();
    expect(bus.subscriberCount()).toBe(0);
  });

  it("reads the next snapshot page while the current one is sent, and stops reading when the client leaves", async () => {
    const run = newRun();
    await repo.actions.createAction(taskRow(run, "a0", null));
    for (let i = 0; i < 10; i++) await repo.actions.createAction(taskRow(run, `c${i}`, "a0"));
    let reads = 0;
    const spy: ActionRepo = {
      ...repo.actions,
      listActionStates: (key: RunKey, after: ActionStateCursor | undefined, limit: number) => {
        reads++;
        return repo.actions.listActionStates(key, after, limit);
      },
    };
    const { ctx, abort } = context();
    const s = open(handlers({ snapshotPageSize: 3, maxItemsPerMessage: 3 }, spy).watchActions!(create(WatchActionsRequestSchema, { runId: runId(run) }), ctx));
    const first = (await s.next()) as WatchActionsResponse;
    expect(first.enrichedActions.map((e) => e.action?.id?.name)).toEqual(["a0", "c0", "c1"]);
    // The first page's message is out and the second page is already asked for.
    expect(reads).toBe(2);
    abort();
    await s.close();
    expect(reads).toBe(2);
    expect(bus.subscriberCount()).toBe(0);
  });

  it("past the inbox bound, re-lists the run and still ends on the newest state", async () => {
    const run = newRun();
    const names = Array.from({ length: 20 }, (_, i) => `n${i}`);
    await repo.actions.createAction(taskRow(run, "a0", null));
    for (const n of names) await repo.actions.createAction(taskRow(run, n, "a0"));
    const { ctx, abort } = context();
    const s = open(handlers({ maxPendingKeys: 4 }).watchActions!(create(WatchActionsRequestSchema, { runId: runId(run) }), ctx));
    const seen: WatchActionsResponse[] = [(await s.next()) as WatchActionsResponse];
    expect(latest(seen).size).toBe(21);
    // Stalled: 20 distinct actions change while the stream holds 4 at most.
    for (const n of names) {
      await repo.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action: n }, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
    }
    for (let m = await s.next(300); m; m = await s.next(300)) seen.push(m as WatchActionsResponse);
    const all = latest(seen);
    expect(names.every((n) => all.get(n)?.action?.status?.phase === ActionPhase.RUNNING)).toBe(true);
    expect(all.get("a0")!.childrenPhaseCounts).toEqual({ [ActionPhase.QUEUED]: 0, [ActionPhase.RUNNING]: 20 });
    expect(seen.length).toBe(2); // one re-list, one message
    abort();
    await s.close();
  });

  it("after a resync event re-reads the run and sends only what changed unseen", async () => {
    const run = newRun();
    await repo.actions.createAction(taskRow(run, "a0", null));
    await repo.actions.createAction(taskRow(run, "b", "a0"));
    await repo.actions.createAction(taskRow(run, "c", "a0"));
    const { ctx, abort } = context();
    const s = open(handlers({}).watchActions!(create(WatchActionsRequestSchema, { runId: runId(run) }), ctx));
    await s.next();
    await silent.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action: "b" }, { phase: ActionPhase.FAILED, attempts: 2, cacheStatus: 0 });
    expect(await s.next(200)).toBeUndefined(); // nobody told the stream
    bus.publish({ kind: "resync" });
    const m = (await s.next()) as WatchActionsResponse;
    expect(m.enrichedActions.map((a) => [a.action!.id!.name, a.action!.status!.phase])).toEqual([
      ["a0", ActionPhase.QUEUED],
      ["b", ActionPhase.FAILED],
    ]);
    abort();
    await s.close();
  });

  it("inserts an action whose parent sorts after it (or comes later) once the parent is known", async () => {
    const run = newRun();
    const t0 = clock.now();
    const t1 = clock.now();
    await repo.actions.createAction(taskRow(run, "a0", null, { created_at: t0 }));
    const { ctx, abort } = context();
    const s = open(handlers({}).watchActions!(create(WatchActionsRequestSchema, { runId: runId(run) }), ctx));
    await s.next();
    // A trace reported with its own (earlier) start time, whose parent is not recorded yet.
    await repo.actions.createAction(taskRow(run, "trace", "p", { created_at: t0 }));
    expect(await s.next(200)).toBeUndefined();
    await repo.actions.createAction(taskRow(run, "p", "a0", { created_at: t1 }));
    const m = (await s.next()) as WatchActionsResponse;
    expect(m.enrichedActions.map((a) => a.action!.id!.name).sort()).toEqual(["a0", "p", "trace"]);
    abort();
    await s.close();
  });

  it("many WatchRuns streams woken by one change read the run once, and each gets its newest state", async () => {
    const run = newRun();
    await repo.actions.createAction(taskRow(run, "a0", null));
    let reads = 0;
    const spy: ActionRepo = {
      ...repo.actions,
      getRun: (key: RunKey) => {
        reads++;
        return repo.actions.getRun(key);
      },
    };
    const h = handlers({}, spy);
    const { ctx, abort } = context();
    const req = create(WatchRunsRequestSchema, { target: { case: "projectId", value: { name: PROJECT, domain: DOMAIN } } });
    const streams = Array.from({ length: 20 }, () => open(h.watchRuns!(req, ctx)));
    for (const s of streams) await s.next(); // snapshots
    const phaseOf = (m: unknown) => received(m)?.runs.find((r) => r.action!.id!.run!.name === run)?.action?.status?.phase;

    await repo.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action: "a0" }, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
    const first = await Promise.all(streams.map((s) => s.next()));
    expect(first.map(phaseOf)).toEqual(streams.map(() => ActionPhase.RUNNING));
    expect(reads).toBe(1);

    // A later change is never answered from the earlier read.
    await repo.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action: "a0" }, { phase: ActionPhase.SUCCEEDED, attempts: 1, cacheStatus: 0 });
    const second = await Promise.all(streams.map((s) => s.next()));
    expect(second.map(phaseOf)).toEqual(streams.map(() => ActionPhase.SUCCEEDED));
    expect(reads).toBe(2);
    abort();
    await Promise.all(streams.map((s) => s.close()));
    expect(bus.subscriberCount()).toBe(0);
  });

  it("many WatchActions streams of one run read each changed action once", async () => {
    const run = newRun();
    await repo.actions.createAction(taskRow(run, "a0", null));
    await repo.actions.createAction(taskRow(run, "b", "a0"));
    let reads = 0;
    const spy: ActionRepo = {
      ...repo.actions,
      getActionStates: (key, names) => {
        reads++;
        return repo.actions.getActionStates(key, names);
      },
    };
    const h = handlers({}, spy);
    const { ctx, abort } = context();
    const raw = Array.from({ length: 10 }, () => h.watchActions!(create(WatchActionsRequestSchema, { runId: runId(run) }), ctx)[Symbol.asyncIterator]());
    for (const s of raw) await s.next();
    await repo.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action: "b" }, { phase: ActionPhase.FAILED, attempts: 1, cacheStatus: 0 });
    const messages = await Promise.all(raw.map(async (s) => (await s.next()).value as WatchActionsResponse));
    const got = messages.map((m) => latest([receivedActions(m)]).get("b")?.action?.status?.phase);
    expect(got).toEqual(raw.map(() => ActionPhase.FAILED));
    expect(reads).toBe(1);
    // b's entry (a leaf) was encoded once: all ten messages carry the very same bytes for it (a0's, with
    // b's phase counted, is each stream's own).
    const uses = new Map<Uint8Array, number>();
    for (const m of messages) for (const f of m.$unknown ?? []) uses.set(f.data, (uses.get(f.data) ?? 0) + 1);
    expect(Math.max(...uses.values())).toBe(10);
    abort();
    await Promise.all(raw.map((s) => s.return?.(undefined)));
  });

  it("WatchRuns sends the changes published while it was being woken in one message, each run's newest state", async () => {
    const names = [newRun(), newRun(), newRun()];
    for (const run of names) await repo.actions.createAction(taskRow(run, "a0", null));
    const { ctx, abort } = context();
    const s = open(
      handlers({}).watchRuns!(create(WatchRunsRequestSchema, { target: { case: "projectId", value: { name: PROJECT, domain: DOMAIN } } }), ctx),
    );
    await s.next(); // the snapshot
    for (const run of names) {
      await silent.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action: "a0" }, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
    }
    // One change after the other, a few promise turns apart (as the writes of requests handled back to back):
    // the stream, woken by the first, takes its inbox only after them.
    for (const run of names) {
      bus.publish({ kind: "run", project: PROJECT, domain: DOMAIN, run });
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    const m = received(await s.next())!;
    expect(m.runs.map((r) => [r.action!.id!.run!.name, r.action!.status!.phase])).toEqual(names.map((n) => [n, ActionPhase.RUNNING]));
    expect(await s.next(200)).toBeUndefined();
    abort();
    await s.close();
  });

  it("WatchRuns resync re-reads the runs changed since the gap (with margin)", async () => {
    const run = newRun();
    await repo.actions.createAction(taskRow(run, "a0", null));
    const { ctx, abort } = context();
    const s = open(
      handlers({ resyncMarginMs: 1000 }).watchRuns!(
        create(WatchRunsRequestSchema, { target: { case: "projectId", value: { name: PROJECT, domain: DOMAIN } } }),
        ctx,
      ),
    );
    const first = received(await s.next())!;
    expect(first.runs.map((r) => r.action!.id!.run!.name)).toContain(run);
    const gap = clock.nowMs();
    await silent.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action: "a0" }, { phase: ActionPhase.RUNNING, attempts: 1, cacheStatus: 0 });
    expect(await s.next(200)).toBeUndefined();
    bus.publish({ kind: "resync", sinceMs: gap });
    const m = received(await s.next())!;
    expect(m.runs.find((r) => r.action!.id!.run!.name === run)?.action?.status?.phase).toBe(ActionPhase.RUNNING);
    abort();
    await s.close();
    expect(bus.subscriberCount()).toBe(0);
  });
});

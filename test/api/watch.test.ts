// The six Watch* streams over a real server, on both databases: snapshot, then live updates, ending, cancelling.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Filter_Function } from "#gen/flyteidl2/common/list_pb.js";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { ActionEventSchema, ActionSpecSchema, ErrorInfo_Kind } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunService, type WatchActionsResponse, type WatchRunsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { actionEventToRow } from "../../src/repository/transformers/action-events.js";
import { systemClock } from "../../src/util/clock.js";
import { startTestApp, TRANSPORTS, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";
import {
  actionId,
  DOMAIN,
  eventually,
  follow,
  insertRows,
  latestActions,
  ORG,
  pause,
  PROJECT,
  runId,
  setPhase,
  taskRow,
} from "./watch-helpers.js";

const clock = systemClock();
const seconds = (s: number) => ({ seconds: BigInt(s), nanos: 0 });
let unique = 0;
const newRunName = (prefix = "rw") => `${prefix}${Date.now().toString(36)}${(unique++).toString(36)}`;

describe.each(await testDialects())("Watch* streams on %s", (kind) => {
  let t: TestApp;
  let runs: Client<typeof RunService>;
  let runsGrpc: Client<typeof RunService>;
  let internal: Client<typeof InternalRunService>;

  beforeAll(async () => {
    t = await startTestApp(kind);
    runs = createClient(RunService, t.transports["connect-h2"]);
    runsGrpc = createClient(RunService, t.transports.grpc);
    internal = createClient(InternalRunService, t.transports["connect-h2"]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const repo = () => t.app.repository;
  const bus = () => t.app.bus;

  /** a0 with children b1, b2 and grandchild c1 under b1. */
  async function smallTree(run: string): Promise<void> {
    await insertRows(repo(), [
      taskRow(run, "a0", null, { phase: ActionPhase.RUNNING }),
      taskRow(run, "b1", "a0"),
      taskRow(run, "b2", "a0", { task_short_name: "custom" }),
      taskRow(run, "c1", "b1", { phase: ActionPhase.RUNNING }),
    ]);
  }

  describe("WatchActions", () => {
    it("sends the tree, then each change with its ancestors and their counts", async () => {
      const run = newRunName();
      await smallTree(run);
      const s = follow((signal) => runs.watchActions({ runId: runId(run) }, { signal }));
      try {
        await s.until((m) => latestActions(m).size === 4, "the snapshot");
        const first = latestActions(s.messages);
        const a0 = first.get("a0")!;
        expect(a0.meetsFilter).toBe(true);
        expect(a0.childrenPhaseCounts).toEqual({ [ActionPhase.QUEUED]: 2, [ActionPhase.RUNNING]: 1 });
        expect(a0.action?.id).toMatchObject({ name: "a0", run: { org: "", project: PROJECT, domain: DOMAIN, name: run } });
        const b1 = first.get("b1")!;
        expect(b1.action?.metadata).toMatchObject({ parent: "a0", environmentName: "wf", funtionName: "wf.b1" });
        expect(b1.action?.metadata?.spec).toMatchObject({
          case: "task",
          value: { taskType: "python", shortName: "b1", id: { org: "", project: PROJECT, domain: DOMAIN, name: "wf.b1", version: "v1" } },
        });
        expect(first.get("b2")!.action?.metadata?.spec).toMatchObject({ case: "task", value: { shortName: "custom" } });
        expect(b1.childrenPhaseCounts).toEqual({ [ActionPhase.RUNNING]: 1 });

        const before = s.messages.length;
        await setPhase(repo(), run, "c1", ActionPhase.SUCCEEDED, clock.now());
        await s.until((m) => latestActions(m).get("c1")?.action?.status?.phase === ActionPhase.SUCCEEDED, "c1 SUCCEEDED");
        const changed = s.messages.slice(before).flatMap((m) => m.enrichedActions.map((a) => a.action!.id!.name));
        expect(changed).toEqual(["a0", "b1", "c1"]);
        const now = latestActions(s.messages);
        expect(now.get("a0")!.childrenPhaseCounts).toEqual({
          [ActionPhase.QUEUED]: 2,
          [ActionPhase.RUNNING]: 0,
          [ActionPhase.SUCCEEDED]: 1,
        });
        expect(now.get("c1")!.action?.status?.endTime).toBeDefined();

        // A new action appears, through the executor's RPC this time.
        await internal.recordAction({
          actionId: actionId(run, "c2"),
          parent: "b2",
          spec: {
            case: "task",
            value: {
              id: { org: ORG, project: PROJECT, domain: DOMAIN, name: "wf.new_task", version: "v2" },
              spec: { taskTemplate: { type: "python" } },
            },
          },
        });
        await s.until((m) => latestActions(m).has("c2"), "the new action");
        expect(latestActions(s.messages).get("b2")!.childrenPhaseCounts).toEqual({ [ActionPhase.QUEUED]: 1 });
      } finally {
        s.cancel();
      }
    });

    it("keeps matches and their ancestors visible and prunes them when the match goes away (3 levels)", async () => {
      const run = newRunName();
      await smallTree(run);
      const filter = [{ field: "PHASE", function: Filter_Function.VALUE_IN, values: [String(ActionPhase.RUNNING)] }];
      const s = follow((signal) => runsGrpc.watchActions({ runId: runId(run), filter }, { signal }));
      try {
        // a0 RUNNING and c1 RUNNING match; b1 shown as c1's parent; b2 (QUEUED, no match below) is not sent.
        await s.until((m) => latestActions(m).size === 3, "the filtered snapshot");
        const shown = (m: WatchActionsResponse[]) => Object.fromEntries([...latestActions(m)].map(([k, v]) => [k, v.meetsFilter]));
        expect(shown(s.messages)).toEqual({ a0: true, b1: true, c1: true });

        await setPhase(repo(), run, "c1", ActionPhase.SUCCEEDED);
        await s.until((m) => shown(m).c1 === false, "c1 hidden");
        expect(shown(s.messages)).toEqual({ a0: true, b1: false, c1: false });

        await setPhase(repo(), run, "a0", ActionPhase.SUCCEEDED);
        await s.until((m) => shown(m).a0 === false, "a0 hidden");

        await setPhase(repo(), run, "b2", ActionPhase.RUNNING);
        await s.until((m) => shown(m).b2 === true && shown(m).a0 === true, "b2 and its parent shown");
      } finally {
        s.cancel();
      }
    });

    it("rejects unsupported filters with InvalidArgument before sending anything", async () => {
      const s = follow((signal) =>
        runs.watchActions({ runId: runId("any"), filter: [{ field: "PHASE", function: Filter_Function.EQUAL, values: ["1"] }] }, { signal }),
      );
      const error = await s.finished;
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toContain("function EQUAL is not supported for filter PHASE");
      expect(s.messages).toHaveLength(0);
    });

    it("streams a run with 1,250 actions completely (keyset pages of 1,000), then follows it", async () => {
      const run = newRunName();
      const rows = [taskRow(run, "a0", null)];
      for (let i = 0; i < 1249; i++) rows.push(taskRow(run, `n${String(i).padStart(4, "0")}`, i < 10 ? "a0" : `n${String(i % 10).padStart(4, "0")}`));
      await insertRows(repo(), rows);
      const s = follow((signal) => runs.watchActions({ runId: runId(run) }, { signal }));
      try {
        await s.until((m) => latestActions(m).size === 1250, "1,250 actions", 20_000);
        const all = latestActions(s.messages);
        expect(all.get("a0")!.childrenPhaseCounts).toEqual({ [ActionPhase.QUEUED]: 1249 });
        expect(s.messages.length).toBeGreaterThan(1); // more than one page
        await pause(100);
        const settled = s.messages.length;
        await setPhase(repo(), run, "n1248", ActionPhase.RUNNING);
        await s.until((m) => latestActions(m).get("n1248")?.action?.status?.phase === ActionPhase.RUNNING, "the update");
        expect(s.messages.length).toBe(settled + 1);
      } finally {
        s.cancel();
      }
    });

    it("20 concurrent streams all reach the final state", async () => {
      const run = newRunName();
      const names = Array.from({ length: 30 }, (_, i) => `x${i}`);
      await insertRows(repo(), [taskRow(run, "a0", null)]);
      const streams = Array.from({ length: 20 }, () => follow((signal) => runs.watchActions({ runId: runId(run) }, { signal })));
      try {
        await Promise.all(streams.map((s) => s.until((m) => latestActions(m).has("a0"), "a0")));
        await insertRows(repo(), names.map((n) => taskRow(run, n, "a0")));
        await Promise.all(
          names.map(async (n) => {
            for (const phase of [ActionPhase.INITIALIZING, ActionPhase.RUNNING, ActionPhase.SUCCEEDED]) await setPhase(repo(), run, n, phase);
          }),
        );
        await setPhase(repo(), run, "a0", ActionPhase.SUCCEEDED);
        const final = (m: WatchActionsResponse[]) => {
          const all = latestActions(m);
          return all.size === 31 && [...all.values()].every((a) => a.action?.status?.phase === ActionPhase.SUCCEEDED);
        };
        await Promise.all(streams.map((s) => s.until(final, "every action SUCCEEDED", 20_000)));
        for (const s of streams) {
          expect(latestActions(s.messages).get("a0")!.childrenPhaseCounts[ActionPhase.SUCCEEDED]).toBe(30);
        }
      } finally {
        for (const s of streams) s.cancel();
      }
    });

    it("a stalled client catches up to the newest state when it reads again", async () => {
      const run = newRunName();
      const names = Array.from({ length: 100 }, (_, i) => `s${i}`);
      const rounds = 8;
      await insertRows(repo(), [taskRow(run, "a0", null), ...names.map((n) => taskRow(run, n, "a0"))]);
      const controller = new AbortController();
      const it = runs.watchActions({ runId: runId(run) }, { signal: controller.signal })[Symbol.asyncIterator]();
      try {
        const seen: WatchActionsResponse[] = [(await it.next()).value as WatchActionsResponse];
        // Not reading: the server must neither block the writers nor lose the final state.
        const started = Date.now();
        for (let round = 0; round < rounds; round++) {
          for (const n of names) {
            await repo().actions.updateActionPhase(
              { project: PROJECT, domain: DOMAIN, run, action: n },
              { phase: round < rounds - 1 ? ActionPhase.RUNNING : ActionPhase.SUCCEEDED, attempts: round + 1, cacheStatus: 0 },
            );
          }
        }
        expect(Date.now() - started).toBeLessThan(15_000);
        const deadline = Date.now() + 15_000;
        const done = () => {
          const all = latestActions(seen);
          return names.every((n) => all.get(n)?.action?.status?.phase === ActionPhase.SUCCEEDED && all.get(n)?.action?.status?.attempts === rounds);
        };
        while (!done()) {
          if (Date.now() > deadline) throw new Error("stalled client never caught up");
          const next = await it.next();
          if (next.done) throw new Error("stream ended");
          seen.push(next.value as WatchActionsResponse);
        }
        // Changes that piled up while the client did not read were folded together.
        expect(seen.length).toBeLessThan(names.length * rounds);
      } finally {
        controller.abort();
        await it.return?.().catch(() => undefined);
      }
    });

    it("a client that stops reading and then cancels releases its subscription", async () => {
      await eventually(() => bus().subscriberCount() === 0, "no stream open");
      const run = newRunName();
      const names = Array.from({ length: 60 }, (_, i) => `q${i}`);
      await insertRows(repo(), [taskRow(run, "a0", null), ...names.map((n) => taskRow(run, n, "a0"))]);
      const controller = new AbortController();
      const it = runs.watchActions({ runId: runId(run) }, { signal: controller.signal })[Symbol.asyncIterator]();
      await it.next();
      // Enough changes to fill the HTTP/2 window so the server blocks writing to this client.
      for (let round = 0; round < 6; round++) {
        for (const n of names) {
          await repo().actions.updateActionPhase(
            { project: PROJECT, domain: DOMAIN, run, action: n },
            { phase: ActionPhase.RUNNING, attempts: round + 2, cacheStatus: 0 },
          );
        }
      }
      expect(bus().subscriberCount()).toBe(1);
      controller.abort();
      await it.return?.().catch(() => undefined);
      await eventually(() => bus().subscriberCount() === 0, "the subscription released", 5000);
    });

    it("30 open/cancel cycles leave no subscription behind", async () => {
      const run = newRunName();
      await insertRows(repo(), [taskRow(run, "a0", null)]);
      await eventually(() => bus().subscriberCount() === 0, "no stream open");
      const baseline = 0;
      for (let i = 0; i < 30; i++) {
        const s = follow((signal) => runs.watchActions({ runId: runId(run) }, { signal }));
        if (i % 2 === 0) await s.until((m) => m.length > 0, "the snapshot");
        else await eventually(() => bus().subscriberCount() > baseline, "the subscription");
        s.cancel();
        await s.finished;
      }
      await eventually(() => bus().subscriberCount() === baseline, "subscriptions released");
    });
  });

  describe("WatchRuns", () => {
    it("sends the project's newest runs, then new runs and run changes; other projects stay out", async () => {
      const run = newRunName("wr");
      await insertRows(repo(), [taskRow(run, "a0", null)]);
      const s = follow((signal) =>
        runs.watchRuns({ target: { case: "projectId", value: { organization: ORG, name: PROJECT, domain: DOMAIN } } }, { signal }),
      );
      const names = () => s.messages.flatMap((m) => m.runs.map((r) => r.action!.id!.run!.name));
      try {
        await s.until(() => names().includes(run), "the snapshot");
        expect(s.messages[0].runs.length).toBeLessThanOrEqual(100);
        expect(s.messages[0].runs[0].action?.metadata?.spec.case).toBe("task");

        // A new run shows up when it is created (the reference only showed it at its first status change).
        const created = newRunName("wr");
        await insertRows(repo(), [taskRow(created, "a0", null)]);
        await s.until(() => names().includes(created), "the created run");
        // A run of another domain does not.
        await insertRows(repo(), [taskRow(newRunName("other"), "a0", null, { domain: "production" })]);

        await setPhase(repo(), created, "a0", ActionPhase.FAILED, clock.now());
        await s.until(
          (m) => m.some((x) => x.runs.some((r) => r.action?.id?.run?.name === created && r.action?.status?.phase === ActionPhase.FAILED)),
          "the FAILED run",
        );
        await pause(100);
        expect(s.messages.flatMap((m) => m.runs).every((r) => r.action?.id?.run?.domain === DOMAIN)).toBe(true);
      } finally {
        s.cancel();
      }
    });

    it("with task_id sends the runs of that task only", async () => {
      const task = `wf.only_${newRunName("t")}`;
      const mine = newRunName("wt");
      await insertRows(repo(), [taskRow(mine, "a0", null, { task_name: task }), taskRow(newRunName("wt"), "a0", null)]);
      const s = follow((signal) =>
        runs.watchRuns({ target: { case: "taskId", value: { org: ORG, project: PROJECT, domain: DOMAIN, name: task, version: "v1" } } }, { signal }),
      );
      try {
        await s.until((m) => m.length > 0, "the snapshot");
        expect(s.messages[0].runs.map((r) => r.action!.id!.run!.name)).toEqual([mine]);
        const later = newRunName("wt");
        await insertRows(repo(), [taskRow(newRunName("wt"), "a0", null), taskRow(later, "a0", null, { task_name: task })]);
        await s.until((m) => m.some((x) => x.runs.some((r) => r.action?.id?.run?.name === later)), "the new run of the task");
        const all = s.messages.flatMap((m) => m.runs);
        expect(all.every((r) => r.action?.metadata?.spec.case === "task" && r.action.metadata.spec.value.id?.name === task)).toBe(true);
      } finally {
        s.cancel();
      }
    });

    it("every transport, binary or JSON, gets the same live run (binary streams share one encoding of it)", async () => {
      await insertRows(repo(), [taskRow(newRunName("tr"), "a0", null)]);
      const target = { case: "projectId" as const, value: { organization: ORG, name: PROJECT, domain: DOMAIN } };
      const streams = TRANSPORTS.map((name) => follow((signal) => createClient(RunService, t.transports[name]).watchRuns({ target }, { signal })));
      try {
        await Promise.all(streams.map((s) => s.until((m) => m.length > 0, "the snapshot")));
        const created = newRunName("tr");
        await insertRows(repo(), [taskRow(created, "a0", null)]);
        const live = (m: WatchRunsResponse[]) => m.slice(1).flatMap((x) => x.runs).find((r) => r.action?.id?.run?.name === created);
        await Promise.all(streams.map((s) => s.until((m) => live(m) !== undefined, "the created run")));
        const seen = streams.map((s) => live(s.messages)!);
        expect(seen[0].action?.status?.phase).toBe(ActionPhase.QUEUED);
        for (const r of seen.slice(1)) expect(r).toEqual(seen[0]);
      } finally {
        for (const s of streams) s.cancel();
      }
    });

    it("with org (everything) sends runs of every project", async () => {
      const s = follow((signal) => runs.watchRuns({ target: { case: "org", value: ORG } }, { signal }));
      try {
        await eventually(() => s.messages.length > 0 || bus().subscriberCount() > 0, "subscription");
        const other = newRunName("org");
        await insertRows(repo(), [taskRow(other, "a0", null, { domain: "staging" })]);
        await s.until((m) => m.some((x) => x.runs.some((r) => r.action?.id?.run?.name === other)), "a staging run");
      } finally {
        s.cancel();
      }
    });
  });

  describe("WatchRunDetails", () => {
    it("answers NotFound for an unknown run", async () => {
      const s = follow((signal) => runs.watchRunDetails({ runId: runId("nope") }, { signal }));
      expect((await s.finished)?.code).toBe(Code.NotFound);
    });

    it("sends the real details, each change, and ends when the run is over", async () => {
      const run = newRunName("rd");
      await insertRows(repo(), [taskRow(run, "a0", null)]);
      const s = follow((signal) => runs.watchRunDetails({ runId: runId(run) }, { signal }));
      await s.until((m) => m.length === 1, "the first details");
      expect(s.messages[0].details?.action?.id).toMatchObject({ name: "a0", run: { name: run } });
      expect(s.messages[0].details?.action?.status?.phase).toBe(ActionPhase.QUEUED);

      await setPhase(repo(), run, "a0", ActionPhase.RUNNING);
      await s.until((m) => m.at(-1)?.details?.action?.status?.phase === ActionPhase.RUNNING, "RUNNING");
      await internal.recordActionEvents({
        events: [{ id: actionId(run, "a0"), attempt: 1, phase: ActionPhase.RUNNING, version: 0, updatedTime: seconds(100) }],
      });
      await s.until((m) => (m.at(-1)?.details?.action?.attempts.length ?? 0) === 1, "the attempt");
      expect(s.done).toBe(false);

      await internal.recordActionEvents({
        events: [{ id: actionId(run, "a0"), attempt: 1, phase: ActionPhase.SUCCEEDED, version: 1, updatedTime: seconds(101) }],
      });
      await setPhase(repo(), run, "a0", ActionPhase.SUCCEEDED, clock.now());
      expect(await s.finished).toBeUndefined();
      expect(s.messages.at(-1)?.details?.action?.status?.phase).toBe(ActionPhase.SUCCEEDED);
    });

    it("ends for an aborted run", async () => {
      const run = newRunName("rd");
      await insertRows(repo(), [taskRow(run, "a0", null)]);
      const s = follow((signal) => runs.watchRunDetails({ runId: runId(run) }, { signal }));
      await s.until((m) => m.length === 1, "the first details");
      await runs.abortRun({ runId: runId(run), reason: "stop" });
      expect(await s.finished).toBeUndefined();
      expect(s.messages.at(-1)?.details?.action?.result).toMatchObject({ case: "abortInfo", value: { reason: "stop" } });
    });
  });

  describe("WatchActionDetails", () => {
    it("first message has the task spec and the RUNNING attempt (reference: StreamedUpdateIncludesFullDetails)", async () => {
      const run = newRunName("ad");
      await internal.recordAction({
        actionId: actionId(run, "action-1"),
        spec: { case: "task", value: { spec: { taskTemplate: { type: "python" } } } },
      });
      await internal.recordActionEvents({
        events: [
          {
            id: actionId(run, "action-1"),
            attempt: 1, // the IDL requires attempts > 0 (the reference's test used 0)
            phase: ActionPhase.RUNNING,
            version: 0,
            updatedTime: seconds(Math.floor(Date.now() / 1000)),
            logInfo: [{ name: "log-1", uri: "s3://logs/1" }],
          },
        ],
      });
      const s = follow((signal) => runs.watchActionDetails({ actionId: actionId(run, "action-1") }, { signal }));
      try {
        await s.until((m) => m.length >= 1, "the first message");
        const d = s.messages[0].details!;
        expect(d.spec.case === "task" && d.spec.value.taskTemplate?.type).toBe("python");
        expect(d.attempts[0].phase).toBe(ActionPhase.RUNNING);
      } finally {
        s.cancel();
      }
    });

    it("first message has the error info of the failed attempt, then the stream ends (reference: ...IncludesErrorInfo)", async () => {
      const run = newRunName("ad");
      const id = actionId(run, "action-1");
      // The IDL requires a task spec (the reference's test recorded none).
      await internal.recordAction({ actionId: id, spec: { case: "task", value: { spec: { taskTemplate: { type: "python" } } } } });
      await internal.updateActionStatus({ actionId: id, status: { phase: ActionPhase.FAILED, attempts: 1 } });
      await internal.recordActionEvents({
        events: [
          {
            id,
            attempt: 1,
            phase: ActionPhase.FAILED,
            version: 0,
            errorInfo: { message: "task failed with OOM", kind: ErrorInfo_Kind.SYSTEM },
            updatedTime: seconds(Math.floor(Date.now() / 1000)),
          },
        ],
      });
      const s = follow((signal) => runs.watchActionDetails({ actionId: id }, { signal }));
      expect(await s.finished).toBeUndefined();
      const d = s.messages[0].details!;
      expect(d.result).toMatchObject({ case: "errorInfo", value: { message: "task failed with OOM" } });
    });

    it("ends with NotFound for an unknown action (reference: GetActionNotFound)", async () => {
      const s = follow((signal) => runs.watchActionDetails({ actionId: actionId("nonexistent-run", "nonexistent-action") }, { signal }));
      const error = await s.finished;
      expect(error?.code).toBe(Code.NotFound);
      expect(error?.rawMessage).toMatch(/^failed to get action details: /);
      expect(s.messages).toHaveLength(0);
    });

    it("follows status and events until the action is over", async () => {
      const run = newRunName("ad");
      await insertRows(repo(), [taskRow(run, "a0", null), taskRow(run, "t1", "a0")]);
      const id = actionId(run, "t1");
      const s = follow((signal) => runs.watchActionDetails({ actionId: id }, { signal }));
      await s.until((m) => m.length === 1, "the first message");
      await internal.updateActionStatus({ actionId: id, status: { phase: ActionPhase.RUNNING, attempts: 1 } });
      await s.until((m) => m.at(-1)?.details?.status?.phase === ActionPhase.RUNNING, "RUNNING");
      await internal.recordActionEvents({ events: [{ id, attempt: 1, phase: ActionPhase.RUNNING, version: 0, updatedTime: seconds(10) }] });
      await s.until((m) => m.at(-1)?.details?.attempts.length === 1, "the attempt");
      // Terminal event first: not over until the row agrees.
      await internal.recordActionEvents({ events: [{ id, attempt: 1, phase: ActionPhase.SUCCEEDED, version: 1, updatedTime: seconds(11) }] });
      await s.until((m) => m.at(-1)?.details?.attempts[0].phase === ActionPhase.SUCCEEDED, "the terminal attempt");
      expect(s.done).toBe(false);
      await internal.updateActionStatus({ actionId: id, status: { phase: ActionPhase.SUCCEEDED, attempts: 1 } });
      expect(await s.finished).toBeUndefined();
      expect(s.messages.at(-1)?.details?.status?.phase).toBe(ActionPhase.SUCCEEDED);
    });
  });

  describe("WatchClusterEvents", () => {
    const eventRow = (run: string, action: string, attempt: number, phase: number, version: number, messages: string[]) =>
      actionEventToRow(
        create(ActionEventSchema, {
          id: actionId(run, action),
          attempt,
          phase,
          version,
          updatedTime: seconds(100 + version),
          clusterEvents: messages.map((message, i) => ({ message, occurredAt: seconds(100 + version + i) })),
        }),
        clock.now(),
      );

    it("sends stored cluster events once, then new ones, and ends at the terminal event", async () => {
      const run = newRunName("ce");
      await insertRows(repo(), [taskRow(run, "a0", null, { phase: ActionPhase.RUNNING })]);
      await repo().actions.insertEvents([eventRow(run, "a0", 1, ActionPhase.RUNNING, 1, ["Pod created"])]);
      const s = follow((signal) => runs.watchClusterEvents({ id: actionId(run, "a0"), attempt: 1 }, { signal }));
      await s.until((m) => m.length === 1, "the stored events");
      expect(s.messages[0].clusterEvents.map((e) => e.message)).toEqual(["Pod created"]);

      // Another attempt's events are not this stream's.
      await repo().actions.insertEvents([eventRow(run, "a0", 2, ActionPhase.RUNNING, 1, ["other attempt"])]);
      await repo().actions.insertEvents([eventRow(run, "a0", 1, ActionPhase.SUCCEEDED, 2, ["Pulled container image"])]);
      expect(await s.finished).toBeUndefined();
      expect(s.messages.flatMap((m) => m.clusterEvents.map((e) => e.message))).toEqual(["Pod created", "Pulled container image"]);
    });

    it("never skips events when many arrive at once", async () => {
      const run = newRunName("ce");
      await insertRows(repo(), [taskRow(run, "a0", null, { phase: ActionPhase.RUNNING })]);
      const s = follow((signal) => runs.watchClusterEvents({ id: actionId(run, "a0"), attempt: 1 }, { signal }));
      await eventually(() => bus().subscriberCount() > 0, "the subscription");
      await pause(50);
      const burst = Array.from({ length: 1300 }, (_, i) => eventRow(run, "a0", 1, ActionPhase.RUNNING, i + 1, [`e${i}`]));
      await repo().actions.insertEvents(burst);
      await repo().actions.insertEvents([eventRow(run, "a0", 1, ActionPhase.SUCCEEDED, 5000, ["done"])]);
      expect(await s.finished).toBeUndefined();
      const got = s.messages.flatMap((m) => m.clusterEvents.map((e) => e.message));
      expect(got).toEqual([...burst.map((_, i) => `e${i}`), "done"]);
    });

    it("ends at once for a finished action, and answers NotFound for an unknown one", async () => {
      const run = newRunName("ce");
      await insertRows(repo(), [taskRow(run, "a0", null, { phase: ActionPhase.SUCCEEDED })]);
      await repo().actions.insertEvents([eventRow(run, "a0", 1, ActionPhase.RUNNING, 1, ["Pod scheduled on node-a"])]);
      const s = follow((signal) => runs.watchClusterEvents({ id: actionId(run, "a0"), attempt: 1 }, { signal }));
      expect(await s.finished).toBeUndefined();
      expect(s.messages.map((m) => m.clusterEvents.map((e) => e.message))).toEqual([["Pod scheduled on node-a"]]);

      const missing = follow((signal) => runs.watchClusterEvents({ id: actionId(run, "zz"), attempt: 1 }, { signal }));
      expect((await missing.finished)?.code).toBe(Code.NotFound);
    });
  });

  describe("WatchGroups", () => {
    const project = () => ({ organization: ORG, name: PROJECT, domain: "groups" });
    const groupRow = (run: string, task: string, phase: number) =>
      taskRow(run, "a0", null, {
        domain: "groups",
        phase,
        action_spec: toBinary(ActionSpecSchema, create(ActionSpecSchema, { spec: { case: "task", value: { id: { name: task } } } })),
      });

    it("sends every group with sentinel, ends with an end date, else sends changed groups", async () => {
      const start = { seconds: BigInt(Math.floor(Date.now() / 1000) - 60), nanos: 0 };
      await insertRows(repo(), [
        groupRow(newRunName("g"), "wf.train", ActionPhase.SUCCEEDED),
        groupRow(newRunName("g"), "wf.train", ActionPhase.FAILED),
        groupRow(newRunName("g"), "wf.eval", ActionPhase.RUNNING),
      ]);
      const once = follow((signal) =>
        runs.watchGroups({ scopeBy: { case: "projectId", value: project() }, startDate: start, endDate: { seconds: start.seconds + 3600n, nanos: 0 } }, { signal }),
      );
      expect(await once.finished).toBeUndefined();
      expect(once.messages).toHaveLength(1);
      expect(once.messages[0].sentinel).toBe(true);
      const train = once.messages[0].taskGroups.find((g) => g.taskName === "wf.train")!;
      expect(train.totalRuns).toBe(2n);
      expect(train.averageFailureRate).toBe(0.5);
      expect(train.recentStatuses).toHaveLength(2);
      expect(train.phaseCounts.map((p) => [p.phase, p.count])).toEqual([
        [ActionPhase.SUCCEEDED, 1n],
        [ActionPhase.FAILED, 1n],
      ]);

      const live = follow((signal) => runs.watchGroups({ scopeBy: { case: "projectId", value: project() }, startDate: start }, { signal }));
      try {
        await live.until((m) => m.length === 1, "the first message");
        expect(live.messages[0].taskGroups.map((g) => g.taskName).sort()).toEqual(["wf.eval", "wf.train"]);
        await insertRows(repo(), [groupRow(newRunName("g"), "wf.eval", ActionPhase.QUEUED)]);
        await live.until((m) => m.length === 2, "an update");
        expect(live.messages[1].sentinel).toBe(false);
        expect(live.messages[1].taskGroups.map((g) => [g.taskName, g.totalRuns])).toEqual([["wf.eval", 2n]]);
      } finally {
        live.cancel();
      }
    });
  });

  it("server shutdown ends open streams and releases their subscriptions", async () => {
    const other = await startTestApp(kind);
    try {
      const client = createClient(RunService, other.transports["connect-h2"]);
      const run = newRunName("sd");
      await insertRows(other.app.repository, [taskRow(run, "a0", null)]);
      const streams = [
        follow((signal) => client.watchActions({ runId: runId(run) }, { signal })),
        follow((signal) => client.watchRuns({ target: { case: "org", value: ORG } }, { signal })),
        follow((signal) => client.watchActionDetails({ actionId: actionId(run, "a0") }, { signal })),
        follow((signal) => client.watchRunDetails({ runId: runId(run) }, { signal })),
      ];
      await Promise.all(streams.map((s) => s.until((m) => m.length > 0, "a first message")));
      expect(other.app.bus.subscriberCount()).toBe(4);
      const started = Date.now();
      await other.closeApp();
      await Promise.all(streams.map((s) => s.finished));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(other.app.bus.subscriberCount()).toBe(0);
    } finally {
      await other.close().catch(() => undefined);
    }
  });
});

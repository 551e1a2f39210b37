// A big fan-out over a real server, on both databases: 2,000 children reported through the three executor
// streams (256 items in flight each) while WatchActions and WatchRunDetails watch; and back-pressure of the
// streams against a client that sends without reading the replies.
import { create } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import {
  InternalRunService,
  RecordActionEventStreamRequestSchema,
  RecordActionStreamRequestSchema,
  UpdateActionStatusStreamRequestSchema,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { DEFAULT_STREAM_BATCH_OPTIONS } from "../../src/service/internal-run-service/stream-batches.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";
import { DOMAIN, eventually, ORG, pause, PROJECT, taskRow } from "./watch-helpers.js";

const CHILDREN = 2000;
const IN_FLIGHT = 256;
const PHASES = [ActionPhase.INITIALIZING, ActionPhase.RUNNING, ActionPhase.SUCCEEDED];
let unique = 0;
const newRunName = () => `rb${Date.now().toString(36)}${(unique++).toString(36)}`;
const runIdOf = (run: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, name: run });
const childId = (run: string, i: number) => ({ run: runIdOf(run), name: `c${i}` });

/** An AsyncIterable fed by push(): the request side of a bidi stream. */
class Pushable<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }
  end(): void {
    this.ended = true;
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.items.length > 0) yield this.items.shift()!;
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

/** Sends n items on a bidi stream with at most `inFlight` unanswered; returns the reply status codes in order. */
async function drive<Req, Res>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the generated clients take message inits
  call: (reqs: AsyncIterable<any>) => AsyncIterable<Res>,
  n: number,
  make: (k: number) => Req,
  code: (res: Res) => number,
): Promise<number[]> {
  const requests = new Pushable<Req>();
  const replies = call(requests)[Symbol.asyncIterator]();
  const codes: number[] = [];
  let sent = 0;
  while (codes.length < n) {
    while (sent < n && sent - codes.length < IN_FLIGHT) requests.push(make(sent++));
    const r = await replies.next();
    if (r.done) throw new Error(`stream ended after ${codes.length} replies`);
    codes.push(code(r.value));
  }
  requests.end();
  expect((await replies.next()).done).toBe(true);
  return codes;
}

interface Watcher {
  phases: Map<string, number>;
  rootCounts: Record<number, number>;
  /** A child's phase went down on this stream. */
  regressions: string[];
  done: Promise<void>;
}

function watchActions(runs: Client<typeof RunService>, run: string, signal: AbortSignal): Watcher {
  const w: Watcher = { phases: new Map(), rootCounts: {}, regressions: [], done: Promise.resolve() };
  w.done = (async () => {
    try {
      for await (const msg of runs.watchActions({ runId: runIdOf(run) }, { signal })) {
        for (const ea of msg.enrichedActions) {
          const name = ea.action!.id!.name;
          const phase = ea.action!.status!.phase;
          if ((w.phases.get(name) ?? 0) > phase) w.regressions.push(`${name}: ${w.phases.get(name)} -> ${phase}`);
          w.phases.set(name, phase);
          if (name === "a0") w.rootCounts = ea.childrenPhaseCounts;
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  })();
  return w;
}

describe.each(await testDialects())("a big run on %s", (kind) => {
  let t: TestApp;
  let runs: Client<typeof RunService>;
  let internal: Client<typeof InternalRunService>;

  beforeAll(async () => {
    t = await startTestApp(kind);
    runs = createClient(RunService, t.transports["connect-h2"]);
    internal = createClient(InternalRunService, t.transports["connect-h2"]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it(`${CHILDREN.toLocaleString("en-US")} children through the three streams: every watcher ends on the exact state and counts`, { timeout: 300_000 }, async () => {
    const run = newRunName();
    await t.app.repository.actions.createAction(taskRow(run, "a0", null, { phase: ActionPhase.RUNNING }));
    const stop = new AbortController();
    const watchers = Array.from({ length: 4 }, () => watchActions(runs, run, stop.signal));
    const details: number[] = [];
    const detailStreams = Array.from({ length: 2 }, async () => {
      for await (const msg of runs.watchRunDetails({ runId: runIdOf(run) }, { signal: stop.signal })) {
        details.push(msg.details!.action!.status!.phase);
      }
    });
    await eventually(() => watchers.every((w) => w.phases.has("a0")), "the watchers' snapshots");

    const recorded = await drive(
      (reqs) => internal.recordActionStream(reqs),
      CHILDREN,
      (i) =>
        create(RecordActionStreamRequestSchema, {
          request: {
            actionId: childId(run, i),
            parent: "a0",
            inputUri: `s3://bucket/${run}/c${i}/inputs.pb`,
            spec: { case: "task", value: { id: { org: ORG, project: PROJECT, domain: DOMAIN, name: "wf.child", version: "v1" }, spec: { taskTemplate: { type: "python" } } } },
          },
        }),
      (r) => r.response!.status!.code,
    );
    expect(recorded.filter((c) => c !== 0)).toEqual([]);
    const updated = await drive(
      (reqs) => internal.updateActionStatusStream(reqs),
      3 * CHILDREN,
      (k) =>
        create(UpdateActionStatusStreamRequestSchema, {
          nonce: BigInt(k),
          request: { actionId: childId(run, Math.floor(k / 3)), status: { phase: PHASES[k % 3], attempts: 1 } },
        }),
      (r) => r.response!.status!.code,
    );
    expect(updated.filter((c) => c !== 0)).toEqual([]);
    const events = await drive(
      (reqs) => internal.recordActionEventStream(reqs),
      CHILDREN,
      (i) =>
        create(RecordActionEventStreamRequestSchema, {
          nonce: BigInt(i),
          request: { event: { id: childId(run, i), attempt: 1, phase: ActionPhase.SUCCEEDED, cluster: "c1" } },
        }),
      (r) => r.response!.status!.code,
    );
    expect(events.filter((c) => c !== 0)).toEqual([]);
    await internal.updateActionStatus({ actionId: { run: runIdOf(run), name: "a0" }, status: { phase: ActionPhase.SUCCEEDED, attempts: 1 } });

    const converged = (w: Watcher) =>
      w.phases.size === CHILDREN + 1 && w.phases.get("a0") === ActionPhase.SUCCEEDED && w.rootCounts[ActionPhase.SUCCEEDED] === CHILDREN;
    await eventually(() => watchers.every(converged), "every watcher on the final state", 120_000);
    await Promise.all(detailStreams); // they end once the run has finished
    stop.abort();
    await Promise.all(watchers.map((w) => w.done));

    for (const w of watchers) {
      expect(w.regressions).toEqual([]);
      expect([...w.phases].filter(([name, phase]) => name !== "a0" && phase !== ActionPhase.SUCCEEDED)).toEqual([]);
      // Exact counts: every child counted once, in SUCCEEDED only (phases left behind keep a zero entry).
      expect(Object.entries(w.rootCounts).filter(([phase, count]) => count !== (Number(phase) === ActionPhase.SUCCEEDED ? CHILDREN : 0))).toEqual([]);
    }
    expect(details.at(-1)).toBe(ActionPhase.SUCCEEDED);
    const stored = await t.app.repository.actions.getAction({ project: PROJECT, domain: DOMAIN, run, action: "c1999" });
    expect([stored.phase, stored.attempts, stored.ended_at !== null]).toEqual([ActionPhase.SUCCEEDED, 1, true]);
    // Items were written together, not one transaction each.
    expect(t.app.streamGauge.batches).toBeLessThan(t.app.streamGauge.items);
  });

  it("a client that sends without reading the replies: the server holds at most maxInFlight items per stream", { timeout: 120_000 }, async () => {
    const run = newRunName();
    await t.app.repository.actions.createAction(taskRow(run, "a0", null));
    const bound = DEFAULT_STREAM_BATCH_OPTIONS.maxInFlight;
    const total = 20 * bound;
    const requests = new Pushable<ReturnType<typeof create<typeof UpdateActionStatusStreamRequestSchema>>>();
    // Everything at once: far more than the server may hold.
    for (let k = 0; k < total; k++) {
      requests.push(
        create(UpdateActionStatusStreamRequestSchema, {
          nonce: BigInt(k),
          request: { actionId: { run: runIdOf(run), name: "a0" }, status: { phase: ActionPhase.RUNNING, attempts: 1 + (k % 7) } },
        }),
      );
    }
    requests.end();
    const before = { items: t.app.streamGauge.items, peak: t.app.streamGauge.peakPerStream };
    const replies = internal.updateActionStatusStream(requests)[Symbol.asyncIterator]();
    const first = await replies.next(); // the stream is open and answering; nothing else is read yet
    expect(first.done).toBe(false);
    // Wait until the server stops making progress: the replies nobody reads fill the transport and it stops reading.
    for (let last = -1; t.app.streamGauge.items !== last; ) {
      last = t.app.streamGauge.items;
      await pause(500);
    }
    expect(t.app.streamGauge.items - before.items).toBeLessThan(total);
    expect(t.app.streamGauge.inFlight).toBeLessThanOrEqual(bound);
    expect(t.app.streamGauge.peakPerStream).toBeLessThanOrEqual(Math.max(bound, before.peak));
    // Reading the replies lets the rest through, every item answered in order.
    let answered = 1;
    for (let r = await replies.next(); !r.done; r = await replies.next()) {
      expect(r.value.nonce).toBe(BigInt(answered));
      expect(r.value.response!.status!.code).toBe(0);
      answered++;
    }
    expect(answered).toBe(total);
    expect(t.app.streamGauge.peakPerStream).toBeLessThanOrEqual(bound);
  });
});

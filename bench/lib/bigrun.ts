/**
 * The bigrun scenario (bench group `bigrun`, see bench/README.md): one run
 * with N children under a0, reported by an "executor" over the three
 * InternalRunService bidi streams on one HTTP/2 connection (each stream with
 * `inFlight` items unacknowledged at most), phase after phase: RecordAction
 * ×N, UpdateActionStatus ×3N (INITIALIZING, RUNNING, SUCCEEDED per child),
 * RecordActionEvent ×N. Against the port, `watchActions` WatchActions and
 * `watchDetails` WatchRunDetails streams (on a second connection, like a UI)
 * watch the run from before the first child to the end.
 */
import { setMaxListeners } from "node:events";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { childName, eventItem, recordItem, updateItem, UPDATE_PHASES } from "./bigrun-items.js";
import { cpuSeconds, rssSampler } from "./proc.js";
import { createRunRequest, DOMAIN, ORG, PROJECT } from "./request.js";
import { quantile, round } from "./stats.js";

export interface StreamResult {
  items: number;
  seconds: number;
  itemsPerSec: number;
  /** items/s of each tenth of the items (by acknowledgement). */
  tenths: number[];
  ackP50Ms: number;
  ackP99Ms: number;
  /** Items answered with a non-zero status. */
  errors: number;
  /** Server CPU (all threads) during the phase, µs per item. */
  cpuUsPerItem: number;
}

export interface BigrunResult {
  children: number;
  record: StreamResult;
  update: StreamResult;
  events: StreamResult;
  /** Server CPU µs per item over the three phases. */
  cpuUsPerItem: number;
  peakRssMb: number;
  /** A child's SUCCEEDED first shown on a WatchActions stream − its acknowledgement, over children × streams. */
  lagP50Ms: number;
  lagP99Ms: number;
  /** End of the update phase → every WatchActions stream holds all children SUCCEEDED with exact counts. */
  convergeMs: number;
  /** Watchers whose final state is exact (every child SUCCEEDED, a0's counts = N SUCCEEDED) / watchers. */
  watchersExact: string;
  watchActionsMessages: number;
  /** Fresh WatchActions until it holds the whole run; ListActions walk (pages of 200). */
  snapshotMs: number;
  listWalkMs: number;
  listPages: number;
}

/** An AsyncIterable fed by push() (the request side of a bidi stream). */
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

interface Stream<Req, Res> {
  requests: Pushable<Req>;
  responses: AsyncIterator<Res>;
}

function open<Req, Res>(call: (reqs: AsyncIterable<Req>) => AsyncIterable<Res>): Stream<Req, Res> {
  const requests = new Pushable<Req>();
  return { requests, responses: call(requests)[Symbol.asyncIterator]() };
}

/** Sends n items with at most inFlight unacknowledged; returns the acknowledgement times (ms). */
async function drive<Req, Res>(
  stream: Stream<Req, Res>,
  n: number,
  inFlight: number,
  make: (k: number) => Req,
  ok: (res: Res) => boolean,
  pid: number,
): Promise<{ result: StreamResult; ackAt: Float64Array }> {
  const sentAt = new Float64Array(n);
  const ackAt = new Float64Array(n);
  let sent = 0;
  let acked = 0;
  let errors = 0;
  let wakeSender: (() => void) | undefined;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const receiver = (async () => {
    for (let k = 0; k < n; k++) {
      const r = await stream.responses.next();
      if (r.done) throw new Error(`stream ended after ${k} of ${n} replies`);
      ackAt[k] = performance.now();
      if (!ok(r.value)) errors++;
      acked++;
      wakeSender?.();
    }
  })();
  let failed: unknown;
  receiver.catch((e: unknown) => {
    failed = e;
    wakeSender?.();
  });
  while (sent < n) {
    while (sent - acked >= inFlight && failed === undefined) await new Promise<void>((r) => (wakeSender = r));
    if (failed !== undefined) break;
    sentAt[sent] = performance.now();
    stream.requests.push(make(sent++));
  }
  await receiver;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const tenths: number[] = [];
  for (let t = 0; t < 10; t++) {
    const a = Math.floor((t * n) / 10);
    const b = Math.floor(((t + 1) * n) / 10);
    const start = a === 0 ? t0 : ackAt[a - 1];
    tenths.push(round((b - a) / ((ackAt[b - 1] - start) / 1000), 0));
  }
  const lat = Array.from(ackAt, (v, k) => v - sentAt[k]);
  return {
    result: {
      items: n,
      seconds: round(seconds, 2),
      itemsPerSec: round(n / seconds, 0),
      tenths,
      ackP50Ms: round(quantile(lat, 0.5), 1),
      ackP99Ms: round(quantile(lat, 0.99), 1),
      errors,
      cpuUsPerItem: round((cpu * 1e6) / n, 0),
    },
    ackAt,
  };
}

interface Watcher {
  /** ms when child i was first shown SUCCEEDED (NaN until then). */
  succeededAt: Float64Array;
  succeeded: number;
  phases: Map<string, number>;
  rootCounts: Record<number, number>;
  convergedAt: number;
  messages: number;
  done: Promise<void>;
}

function watchActions(client: Client<typeof RunService>, run: string, n: number, signal: AbortSignal): Watcher {
  const w: Watcher = {
    succeededAt: new Float64Array(n).fill(NaN),
    succeeded: 0,
    phases: new Map(),
    rootCounts: {},
    convergedAt: NaN,
    messages: 0,
    done: Promise.resolve(),
  };
  w.done = (async () => {
    try {
      for await (const msg of client.watchActions({ runId: { org: ORG, project: PROJECT, domain: DOMAIN, name: run } }, { signal })) {
        const now = performance.now();
        w.messages++;
        for (const ea of msg.enrichedActions) {
          const name = ea.action?.id?.name ?? "";
          const phase = ea.action?.status?.phase ?? 0;
          w.phases.set(name, phase);
          if (name === "a0") w.rootCounts = ea.childrenPhaseCounts;
          else if (phase === ActionPhase.SUCCEEDED) {
            const i = Number(name.slice(1));
            if (Number.isNaN(w.succeededAt[i])) {
              w.succeededAt[i] = now;
              w.succeeded++;
            }
          }
        }
        if (Number.isNaN(w.convergedAt) && w.succeeded === n && w.rootCounts[ActionPhase.SUCCEEDED] === n) w.convergedAt = now;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  })();
  return w;
}

function exact(w: Watcher, n: number): boolean {
  if (w.succeeded !== n || w.phases.size !== n + 1) return false;
  for (const [name, phase] of w.phases) if (name !== "a0" && phase !== ActionPhase.SUCCEEDED) return false;
  for (const [phase, count] of Object.entries(w.rootCounts)) if (count !== (Number(phase) === ActionPhase.SUCCEEDED ? n : 0)) return false;
  return true;
}

export interface BigrunOptions {
  baseUrl: string;
  pid: number;
  children: number;
  inFlight: number;
  /** 0 for the baselines (no RunService). */
  watchActions: number;
  watchDetails: number;
  /** Creates the run through RunService/CreateRun first (the port). */
  createRun: boolean;
  runName: string;
  storagePrefix: string;
  log: (line: string) => void;
  /** Longest wait for the watchers to converge after the last write. */
  convergeTimeoutMs?: number;
}

export async function runBigrun(o: BigrunOptions): Promise<Partial<BigrunResult> & Pick<BigrunResult, "record" | "update" | "events" | "cpuUsPerItem" | "peakRssMb" | "children">> {
  const sessions = new Http2SessionManager(o.baseUrl);
  const watchSessions = new Http2SessionManager(o.baseUrl);
  const transport = createConnectTransport({ baseUrl: o.baseUrl, httpVersion: "2", sessionManager: sessions });
  const watchTransport = createConnectTransport({ baseUrl: o.baseUrl, httpVersion: "2", sessionManager: watchSessions });
  const internal = createClient(InternalRunService, transport);
  const runs = createClient(RunService, watchTransport);
  const n = o.children;
  const runId = { org: ORG, project: PROJECT, domain: DOMAIN, name: o.runName };
  const stop = new AbortController();
  // Every watcher listens on this one signal.
  setMaxListeners(4 * (o.watchActions + o.watchDetails) + 10, stop.signal);
  const rss = rssSampler(o.pid);
  try {
    if (o.createRun) await runs.createRun(createRunRequest(o.runName));
    const watchers = Array.from({ length: o.watchActions }, () => watchActions(runs, o.runName, n, stop.signal));
    let detailsMessages = 0;
    let rootFinal = 0;
    const details = Array.from({ length: o.watchDetails }, async () => {
      try {
        for await (const msg of runs.watchRunDetails({ runId }, { signal: stop.signal })) {
          detailsMessages++;
          rootFinal = msg.details?.action?.status?.phase ?? rootFinal;
        }
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      }
    });
    // The watchers have their snapshot (a0) before the first child.
    while (watchers.some((w) => !w.phases.has("a0"))) await new Promise((r) => setTimeout(r, 10));

    const record = open(internal.recordActionStream.bind(internal));
    const update = open(internal.updateActionStatusStream.bind(internal));
    const events = open(internal.recordActionEventStream.bind(internal));
    const cpu0 = cpuSeconds(o.pid);
    const r1 = await drive(record, n, o.inFlight, (k) => recordItem(o.runName, k, o.storagePrefix), (r) => (r.response?.status?.code ?? 0) === 0, o.pid);
    o.log(`    record  ${r1.result.itemsPerSec} items/s, tenths ${r1.result.tenths.join(" ")}, errors ${r1.result.errors}`);
    const r2 = await drive(update, 3 * n, o.inFlight, (k) => updateItem(o.runName, k), (r) => (r.response?.status?.code ?? 0) === 0, o.pid);
    const updateEnd = performance.now();
    o.log(`    update  ${r2.result.itemsPerSec} items/s, tenths ${r2.result.tenths.join(" ")}, errors ${r2.result.errors}`);
    const r3 = await drive(events, n, o.inFlight, (k) => eventItem(o.runName, k), (r) => (r.response?.status?.code ?? 0) === 0, o.pid);
    o.log(`    events  ${r3.result.itemsPerSec} items/s, tenths ${r3.result.tenths.join(" ")}, errors ${r3.result.errors}`);
    const cpuUsPerItem = round(((cpuSeconds(o.pid) - cpu0) * 1e6) / (5 * n), 0);
    for (const s of [record, update, events]) s.requests.end();
    for (const s of [record, update, events]) while (!(await s.responses.next()).done);
    const base = { children: n, record: r1.result, update: r2.result, events: r3.result, cpuUsPerItem };
    if (o.watchActions === 0) return { ...base, peakRssMb: round(rss.stop() / 1024, 0) };

    // The run ends; the run watchers settle and end.
    await internal.updateActionStatus({ actionId: { run: runId, name: "a0" }, status: { phase: ActionPhase.SUCCEEDED, attempts: 1 } });
    const deadline = performance.now() + (o.convergeTimeoutMs ?? 120_000);
    while (watchers.some((w) => Number.isNaN(w.convergedAt) || w.phases.get("a0") !== ActionPhase.SUCCEEDED) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const convergeMs = Math.max(...watchers.map((w) => w.convergedAt - updateEnd));
    const peakRssMb = round(rss.stop() / 1024, 0);
    const lags: number[] = [];
    const succeededAck = (i: number) => r2.ackAt[i * UPDATE_PHASES.length + UPDATE_PHASES.length - 1];
    for (const w of watchers) for (let i = 0; i < n; i++) lags.push(w.succeededAt[i] - succeededAck(i));
    const exactCount = watchers.filter((w) => exact(w, n)).length;
    const watchActionsMessages = watchers.reduce((s, w) => s + w.messages, 0);
    await Promise.race([Promise.all(details), new Promise((r) => setTimeout(r, 5000))]);
    stop.abort();
    await Promise.allSettled([...watchers.map((w) => w.done), ...details]);
    o.log(`    watchers: ${exactCount}/${watchers.length} exact, run details ${rootFinal === ActionPhase.SUCCEEDED ? "SUCCEEDED" : `phase ${rootFinal}`} (${detailsMessages} msgs), WatchActions ${watchActionsMessages} msgs`);

    // A fresh WatchActions of the finished run, and a ListActions walk.
    const t0 = performance.now();
    const fresh = new AbortController();
    const seen = new Set<string>();
    try {
      for await (const msg of runs.watchActions({ runId }, { signal: fresh.signal })) {
        for (const ea of msg.enrichedActions) seen.add(ea.action?.id?.name ?? "");
        if (seen.size >= n + 1) break;
      }
    } finally {
      fresh.abort();
    }
    const snapshotMs = performance.now() - t0;
    const t1 = performance.now();
    let token = "";
    let pages = 0;
    let listed = 0;
    do {
      const page = await runs.listActions({ runId, request: { limit: 200, token } });
      listed += page.actions.length;
      token = page.token;
      pages++;
    } while (token !== "");
    const listWalkMs = performance.now() - t1;
    if (listed !== n + 1) o.log(`    ListActions walk listed ${listed} of ${n + 1}`);
    return {
      ...base,
      peakRssMb,
      lagP50Ms: round(quantile(lags, 0.5), 1),
      lagP99Ms: round(quantile(lags, 0.99), 1),
      convergeMs: round(convergeMs, 0),
      watchersExact: `${exactCount}/${watchers.length}`,
      watchActionsMessages,
      snapshotMs: round(snapshotMs, 0),
      listWalkMs: round(listWalkMs, 0),
      listPages: pages,
    };
  } finally {
    rss.stop();
    stop.abort();
    sessions.abort();
    watchSessions.abort();
  }
}

export { childName };

/**
 * The watch load: `streams` RunService.WatchRuns streams (project flytesnacks,
 * domain development) on ONE HTTP/2 connection, while CreateRun is called
 * every `intervalMs` for `seconds` (unique run names, the bench's request) on
 * a second connection.
 *
 * Before the measured window sentinel runs are created (one a second) and the driver waits
 * until every stream has seen one of them (so every stream is subscribed). After the
 * window it waits (up to `drainSeconds`) until every stream has seen every
 * created run. Reported: the minimum over streams of the share of created
 * runs the stream saw, create→receive latency (CreateRun request sent → the
 * first message on a stream carrying that run, over all streams: the same
 * clock for the fan-out baseline and the port, never negative), the same
 * from the CreateRun response (INFO: negative when the message beat the
 * response, e.g. when the port's response waits for its Enqueue), stream
 * messages per second, and the server's RSS before the streams, with the
 * streams open, and at peak.
 */
import { setMaxListeners } from "node:events";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { RunService, WatchRunsRequestSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { cpuSeconds, mainThreadCpuSeconds, rssKb, rssSampler } from "./proc.js";
import { createRunRequest, DOMAIN, PROJECT } from "./request.js";
import { quantile } from "./stats.js";

export interface WatchOptions {
  baseUrl: string;
  pid: number;
  streams: number;
  seconds: number;
  intervalMs: number;
  /** Longest wait for the streams to open (sentinel seen) and to catch up after the window. */
  openSeconds: number;
  drainSeconds: number;
  nextRunName: () => string;
}

export interface WatchResult {
  streams: number;
  /** Streams that saw the sentinel (were subscribed) before the window. */
  streamsOpen: number;
  openMs: number;
  created: number;
  createErrors: number;
  streamErrors: number;
  firstError?: string;
  /** Minimum / median over streams of distinct created runs seen ÷ created. */
  minDeliveredShare: number;
  medianDeliveredShare: number;
  /** ms from the first CreateRun to the moment every stream had seen every run (or the drain timed out). */
  windowMs: number;
  drainMs: number;
  messages: number;
  /** Run items across all messages (a message may carry several runs; a run may come more than once). */
  runItems: number;
  msgsPerSec: number;
  runItemsPerSec: number;
  /** create→receive from the moment the CreateRun request was sent. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** create→receive from the CreateRun response (negative when the message beat the response). */
  fromResponseP50Ms: number;
  fromResponseP99Ms: number;
  createP50Ms: number;
  /** Server CPU (all threads) per run item received, over the window and the drain, µs. */
  serverCpuUsPerRunItem: number;
  /** Server main-thread CPU over the window and the drain, % of one core. */
  serverMainThreadCpuPct: number;
  /** The driver's own CPU over the window and the drain (stream clients, CreateRun client, executor stub), % of one core. */
  driverCpuPct: number;
  rssBeforeMb: number;
  rssStreamsOpenMb: number;
  serverPeakRssMb: number;
}

export async function runWatch(o: WatchOptions): Promise<WatchResult> {
  const rssBeforeMb = rssKb(o.pid) / 1024;
  const rss = rssSampler(o.pid);
  const sessionManager = new Http2SessionManager(o.baseUrl);
  // BENCH_WATCH_GZIP=0: the streams accept no compression (as connect-web in a browser); default gzip and br,
  // connect-node's defaults.
  const transport = createConnectTransport({
    baseUrl: o.baseUrl,
    httpVersion: "2",
    useBinaryFormat: true,
    sessionManager,
    ...(process.env.BENCH_WATCH_GZIP === "0" ? { acceptCompression: [] } : {}),
  });
  const client = createClient(RunService, transport);
  // CreateRun on a connection of its own, like a client other than the UI: on the streams' connection its
  // response would queue behind their data (and their connection-level flow-control window).
  const createSessions = new Http2SessionManager(o.baseUrl);
  const creator = createClient(RunService, createConnectTransport({ baseUrl: o.baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager: createSessions }));
  const abort = new AbortController();
  setMaxListeners(o.streams + 16, abort.signal);

  let counting = false;
  let messages = 0;
  let runItems = 0;
  let streamErrors = 0;
  let firstError: string | undefined;
  /** Per stream: run name → first receive time (performance.now()). */
  const seen: Map<string, number>[] = [];
  /** Sentinel runs created before the window; a stream that saw one is subscribed. */
  const sentinels = new Set<string>();
  let sentinelSeen = 0;
  /** Called whenever a stream sees a run for the first time. */
  let onNewSeen = () => {};

  const req = create(WatchRunsRequestSchema, {
    target: { case: "projectId", value: { organization: "o", name: PROJECT, domain: DOMAIN } },
  });
  const consume = async (i: number) => {
    const mine = new Map<string, number>();
    seen[i] = mine;
    let subscribed = false;
    try {
      for await (const msg of client.watchRuns(req, { signal: abort.signal })) {
        const now = performance.now();
        if (counting) {
          messages++;
          runItems += msg.runs.length;
        }
        for (const run of msg.runs) {
          const name = run.action?.id?.run?.name ?? "";
          if (mine.has(name)) continue;
          mine.set(name, now);
          if (!subscribed && sentinels.has(name)) {
            subscribed = true;
            sentinelSeen++;
          }
          onNewSeen();
        }
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      streamErrors++;
      firstError ??= `stream: ${(error as Error).message}`;
    }
  };

  const waitUntil = (cond: () => boolean, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (cond()) return resolve(true);
      const timer = setTimeout(() => {
        onNewSeen = () => {};
        resolve(cond());
      }, ms);
      onNewSeen = () => {
        if (!cond()) return;
        clearTimeout(timer);
        onNewSeen = () => {};
        resolve(true);
      };
    });

  const consumers = Array.from({ length: o.streams }, (_, i) => consume(i));
  try {
    // Every stream subscribed: each has seen a run created after it was opened. CreateRun travels on another
    // connection than the streams, so a sentinel may beat some subscriptions: another one every second.
    const tOpen = performance.now();
    let createErrors = 0;
    while (sentinelSeen < o.streams && performance.now() - tOpen < o.openSeconds * 1000) {
      const sentinel = o.nextRunName();
      sentinels.add(sentinel);
      try {
        await creator.createRun(createRunRequest(sentinel), { timeoutMs: 30_000 });
      } catch (error) {
        createErrors++;
        firstError ??= `create: ${(error as Error).message}`;
      }
      await waitUntil(() => sentinelSeen >= o.streams, 1000);
    }
    const streamsOpen = sentinelSeen;
    const openMs = performance.now() - tOpen;
    const rssStreamsOpenMb = rssKb(o.pid) / 1024;

    // The window: one CreateRun every intervalMs, not waiting for the previous one.
    const created = new Map<string, { sent: number; answered: number }>(); // name → CreateRun sent / response time
    const createLatencies: number[] = [];
    const calls: Promise<void>[] = [];
    counting = true;
    const cpu0 = cpuSeconds(o.pid);
    const main0 = mainThreadCpuSeconds(o.pid);
    const driver0 = process.cpuUsage();
    const t0 = performance.now();
    const total = Math.round((o.seconds * 1000) / o.intervalMs);
    for (let i = 0; i < total; i++) {
      const due = t0 + i * o.intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const name = o.nextRunName();
      const start = performance.now();
      calls.push(
        creator.createRun(createRunRequest(name), { timeoutMs: 30_000 }).then(
          () => {
            const t = performance.now();
            created.set(name, { sent: start, answered: t });
            createLatencies.push(t - start);
          },
          (error) => {
            createErrors++;
            firstError ??= `create: ${(error as Error).message}`;
          },
        ),
      );
    }
    await Promise.all(calls);
    const tCreated = performance.now();
    const names = [...created.keys()];
    const allSeen = () => seen.every((m) => names.every((n) => m.has(n)));
    // Checking every stream × every run on each new sighting is quadratic: poll instead.
    const drainEnd = tCreated + o.drainSeconds * 1000;
    while (!allSeen() && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 20));
    const cpuUsed = cpuSeconds(o.pid) - cpu0;
    const mainUsed = mainThreadCpuSeconds(o.pid) - main0;
    const driverUsed = process.cpuUsage(driver0);
    const tDrained = performance.now();
    // the last run first seen anywhere ends the window
    let last = tCreated;
    for (const m of seen) for (const n of names) { const t = m.get(n); if (t !== undefined && t > last) last = t; }
    const windowMs = last - t0;
    counting = false;

    const shares = seen.map((m) => (names.length ? names.filter((n) => m.has(n)).length / names.length : NaN)).sort((a, b) => a - b);
    const latencies: number[] = [];
    const fromResponse: number[] = [];
    for (const m of seen) {
      for (const [n, c] of created) {
        const t = m.get(n);
        if (t === undefined) continue;
        latencies.push(t - c.sent);
        fromResponse.push(t - c.answered);
      }
    }
    const peakKb = rss.stop();
    return {
      streams: o.streams,
      streamsOpen,
      openMs,
      created: created.size,
      createErrors,
      streamErrors,
      firstError,
      minDeliveredShare: shares[0] ?? NaN,
      medianDeliveredShare: shares[shares.length >> 1] ?? NaN,
      windowMs,
      drainMs: performance.now() - tCreated,
      messages,
      runItems,
      msgsPerSec: messages / (windowMs / 1000),
      runItemsPerSec: runItems / (windowMs / 1000),
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      maxMs: quantile(latencies, 1),
      fromResponseP50Ms: quantile(fromResponse, 0.5),
      fromResponseP99Ms: quantile(fromResponse, 0.99),
      createP50Ms: quantile(createLatencies, 0.5),
      serverCpuUsPerRunItem: (cpuUsed * 1e6) / runItems,
      serverMainThreadCpuPct: (mainUsed * 100_000) / (tDrained - t0),
      driverCpuPct: ((driverUsed.user + driverUsed.system) / 1000 / (tDrained - t0)) * 100,
      rssBeforeMb,
      rssStreamsOpenMb,
      serverPeakRssMb: peakKb / 1024,
    };
  } finally {
    rss.stop();
    abort.abort();
    await Promise.allSettled(consumers);
    sessionManager.abort();
    createSessions.abort();
  }
}

/**
 * The load driver: one HTTP/2 connection (connect-node, httpVersion "2"),
 * `concurrency` CreateRun calls in flight, for a warm-up and then a measured
 * window; reports throughput, latency percentiles, errors and the server
 * process's CPU and peak RSS during the measured window.
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { cpuSeconds, machineBusySeconds, mainThreadCpuSeconds, postgresCpuSeconds, rssSampler } from "./proc.js";
import { createRunRequest } from "./request.js";
import { quantile } from "./stats.js";

export interface LoadOptions {
  baseUrl: string;
  /** Server process whose CPU and RSS are read. */
  pid: number;
  /** Connect JSON instead of binary protobuf. */
  json: boolean;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  nextRunName: () => string;
}

export interface LoadResult {
  concurrency: number;
  codec: "proto" | "json";
  /** Successful calls in the measured window. */
  requests: number;
  /** Failed calls, warm-up included. */
  errors: number;
  firstError?: string;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU during the window, in % of one core. */
  serverCpuPct: number;
  /** Server CPU per successful request, in µs. */
  serverCpuUsPerReq: number;
  /** The server's main thread (event loop) alone, in % of one core: near 100 means the event loop is the bottleneck. */
  serverMainThreadCpuPct: number;
  /**
   * This driver's own CPU per successful request, in µs: the load client, plus
   * the executor stub's work for the port's Enqueue calls. Both share the
   * machine with the server.
   */
  driverCpuUsPerReq: number;
  /** Busy CPU of the whole machine (every process, every core) per request. */
  machineCpuUsPerReq: number;
  /** CPU of the PostgreSQL server processes per request (about 0 for SQLite servers). */
  postgresCpuUsPerReq: number;
  /** Highest VmRSS of the server sampled during the window, MiB. */
  serverPeakRssMb: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const sessionManager = new Http2SessionManager(o.baseUrl);
  const transport = createConnectTransport({
    baseUrl: o.baseUrl,
    httpVersion: "2",
    useBinaryFormat: !o.json,
    sessionManager,
  });
  const client = createClient(RunService, transport);
  try {
    let errors = 0;
    let firstError: string | undefined;
    // Errors count in the warm-up too: a phase passes only without any.
    const call = async (latencies?: number[]) => {
      const req = createRunRequest(o.nextRunName());
      const t0 = performance.now();
      try {
        await client.createRun(req, { timeoutMs: 30_000 });
        latencies?.push(performance.now() - t0);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    };
    const drive = async (ms: number, latencies?: number[]) => {
      const end = performance.now() + ms;
      const worker = async () => {
        while (performance.now() < end) await call(latencies);
      };
      await Promise.all(Array.from({ length: o.concurrency }, worker));
    };

    await drive(o.warmupSeconds * 1000);

    const latencies: number[] = [];
    const rss = rssSampler(o.pid);
    const cpu0 = cpuSeconds(o.pid);
    const main0 = mainThreadCpuSeconds(o.pid);
    const driver0 = process.cpuUsage();
    const machine0 = machineBusySeconds();
    const pg0 = postgresCpuSeconds();
    const t0 = performance.now();
    await drive(o.seconds * 1000, latencies);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(o.pid) - cpu0;
    const mainCpu = mainThreadCpuSeconds(o.pid) - main0;
    const driver = process.cpuUsage(driver0);
    const machine = machineBusySeconds() - machine0;
    const postgres = postgresCpuSeconds() - pg0;
    const peakKb = rss.stop();
    return {
      concurrency: o.concurrency,
      codec: o.json ? "json" : "proto",
      requests: latencies.length,
      errors,
      firstError,
      seconds: elapsed,
      rps: latencies.length / elapsed,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      serverCpuPct: (cpu / elapsed) * 100,
      serverCpuUsPerReq: latencies.length ? (cpu / latencies.length) * 1e6 : NaN,
      serverMainThreadCpuPct: (mainCpu / elapsed) * 100,
      driverCpuUsPerReq: latencies.length ? (driver.user + driver.system) / latencies.length : NaN,
      serverPeakRssMb: peakKb / 1024,
      machineCpuUsPerReq: latencies.length ? (machine / latencies.length) * 1e6 : NaN,
      postgresCpuUsPerReq: latencies.length ? (postgres / latencies.length) * 1e6 : NaN,
    };
  } finally {
    sessionManager.abort();
  }
}

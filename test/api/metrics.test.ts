// GET /metrics over a real listener, parsed with a Prometheus text-format
// parser: RPC counters move by exactly the calls made, per code; open
// streams and bus subscribers follow a watch; process metrics are there.
import { createClient } from "@connectrpc/connect";
import parsePrometheusTextFormat, { type PromFamily, type PromSample } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { createMemoryBlobStore } from "../../src/storage/index.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { startFakeActionsService } from "./fake-actions-service.js";
import { testDialects } from "../support/databases.js";

const RUN_SERVICE = "flyteidl2.workflow.RunService";
const projectScope = { case: "projectId" as const, value: { organization: "o", name: "flytesnacks", domain: "development" } };

async function scrape(baseUrl: string, path = "/metrics"): Promise<PromFamily[]> {
  const res = await fetch(baseUrl + path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusTextFormat(await res.text());
}

function family(families: PromFamily[], name: string): PromFamily | undefined {
  return families.find((f) => f.name === name);
}

function sample(families: PromFamily[], name: string, labels: Record<string, string>): PromSample | undefined {
  return family(families, name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
}

const value = (families: PromFamily[], name: string, labels: Record<string, string> = {}) =>
  Number(sample(families, name, labels)?.value ?? 0);

describe.each(await testDialects())("/metrics on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("counts each call once by method and code, with its handling time", async () => {
    const runs = createClient(RunService, t.transports["connect-h2"]);
    const before = await scrape(t.baseUrl);
    await runs.listRuns({ request: { limit: 5 }, scopeBy: projectScope });
    await expect(runs.getRunDetails({})).rejects.toThrow();

    const after = await scrape(t.baseUrl);
    const diff = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    const listRuns = { grpc_type: "unary", grpc_service: RUN_SERVICE, grpc_method: "ListRuns" };
    const details = { grpc_type: "unary", grpc_service: RUN_SERVICE, grpc_method: "GetRunDetails" };
    expect(family(after, "grpc_server_handled_total")?.type).toBe("COUNTER");
    expect(diff("grpc_server_started_total", listRuns)).toBe(1);
    expect(diff("grpc_server_handled_total", { ...listRuns, grpc_code: "OK" })).toBe(1);
    expect(diff("grpc_server_handled_total", { ...details, grpc_code: "InvalidArgument" })).toBe(1);
    expect(diff("grpc_server_handled_total", { ...details, grpc_code: "OK" })).toBe(0);
    expect(diff("grpc_server_msg_received_total", listRuns)).toBe(1);
    expect(diff("grpc_server_msg_sent_total", listRuns)).toBe(1);
    expect(diff("grpc_server_msg_sent_total", details)).toBe(0);

    const histogram = family(after, "grpc_server_handling_seconds")!;
    expect(histogram.type).toBe("HISTOGRAM");
    expect(Object.keys(histogram.metrics[0].buckets!)).toContain("+Inf");
    // The parser folds a labelled histogram into one series, so its per-method count is read from the registry.
    const json = await t.app.metrics.registry.getSingleMetric("grpc_server_handling_seconds")!.get();
    const listRunsCount = json.values.find((v) => (v as { metricName?: string }).metricName === "grpc_server_handling_seconds_count" && v.labels.grpc_method === "ListRuns");
    expect(listRunsCount?.value).toBe(1);
  });

  it("shows an open watch stream and its bus subscriber until the client cancels", async () => {
    const watching = { grpc_service: RUN_SERVICE, grpc_method: "WatchRuns" };
    const before = await scrape(t.baseUrl);
    const controller = new AbortController();
    const stream = createClient(RunService, t.transports.grpc).watchRuns({ target: projectScope }, { signal: controller.signal });
    // An empty project sends nothing yet: the call is open once the server counts it.
    const first = stream[Symbol.asyncIterator]().next().catch(() => undefined);
    await expect.poll(async () => value(await scrape(t.baseUrl), "runs_open_streams", watching)).toBe(1);
    const during = await scrape(t.baseUrl);
    expect(value(during, "runs_event_bus_subscribers") - value(before, "runs_event_bus_subscribers")).toBe(1);

    controller.abort();
    await first;
    await expect.poll(async () => value(await scrape(t.baseUrl), "runs_open_streams", watching)).toBe(0);
    const after = await scrape(t.baseUrl);
    expect(value(after, "runs_event_bus_subscribers")).toBe(value(before, "runs_event_bus_subscribers"));
    const handled = { grpc_type: "server_stream", ...watching, grpc_code: "Canceled" };
    expect(value(after, "grpc_server_handled_total", handled) - value(before, "grpc_server_handled_total", handled)).toBe(1);
  });

  it("reports queues, the scheduler, the process and (PostgreSQL) the pool", async () => {
    const m = await scrape(t.baseUrl);
    for (const name of [
      "runs_abort_reconciler_backlog",
      "runs_enqueue_retrier_backlog",
      "runs_abort_retries_total",
      "runs_enqueue_retries_total",
      "runs_scheduler_fires_total",
      "runs_scheduler_missed_slots_total",
      "runs_watch_updates_coalesced_total",
      "runs_watch_inbox_overflows_total",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
      "process_resident_memory_bytes",
      "nodejs_gc_duration_seconds",
    ]) {
      expect(family(m, name), name).toBeDefined();
    }
    expect(sample(m, "runs_abort_reconciler_backlog", { state: "queued" })?.value).toBe("0");
    if (kind === "postgres") {
      expect(family(m, "runs_db_pool_connections")!.metrics.map((s) => s.labels?.state).sort()).toEqual(["idle", "in_use", "waiting"]);
    } else {
      expect(family(m, "runs_db_pool_connections")).toBeUndefined();
    }
  });
});

describe("runs.server.metrics", () => {
  it("moves /metrics or turns it off", async () => {
    const moved = await startTestApp("sqlite", (c) => (c.runs.server.metrics.path = "/internal/prom"));
    try {
      expect(family(await scrape(moved.baseUrl, "/internal/prom"), "grpc_server_started_total")).toBeDefined();
      expect((await fetch(moved.baseUrl + "/metrics")).status).toBe(404);
    } finally {
      await moved.close();
    }
    const off = await startTestApp("sqlite", (c) => (c.runs.server.metrics.enabled = false));
    try {
      expect((await fetch(off.baseUrl + "/metrics")).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe("outgoing Enqueue metrics", () => {
  it("count a refused Enqueue by code, its scheduled retry and the backlog waiting for it", async () => {
    const executor = await startFakeActionsService();
    executor.enqueueScript = () => new ConnectError("no capacity", Code.ResourceExhausted);
    // Retries far enough away that the one scheduled is still waiting when scraped.
    const t = await startTestApp(
      "sqlite",
      (c) => {
        c.runs.actionsServiceUrl = executor.url;
        c.runs.storagePrefix = "s3://bucket/data";
        c.runs.abortReconciler.initialDelay = 600_000;
        c.runs.abortReconciler.maxDelay = 600_000;
      },
      { blobStore: createMemoryBlobStore() },
    );
    try {
      const before = await scrape(t.baseUrl);
      await createClient(RunService, t.transports["connect-h2"]).createRun({
        id: { case: "runId", value: { org: "o", project: "flytesnacks", domain: "development", name: "refused" } },
        task: {
          case: "taskSpec",
          value: {
            taskTemplate: { id: { org: "o", project: "flytesnacks", domain: "development", name: "env.t", version: "v1" }, type: "python", interface: {} },
            shortName: "t",
            environment: { name: "env" },
          },
        },
      });
      const after = await scrape(t.baseUrl);
      const diff = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
      expect(diff("runs_actions_service_calls_total", { grpc_method: "Enqueue", grpc_code: "ResourceExhausted" })).toBe(1);
      expect(diff("runs_actions_service_calls_total", { grpc_method: "Enqueue", grpc_code: "OK" })).toBe(0);
      expect(diff("runs_enqueue_retries_total")).toBe(1);
      expect(value(after, "runs_enqueue_retrier_backlog", { state: "waiting_retry" })).toBe(1);
      expect(diff("grpc_server_handled_total", { grpc_method: "CreateRun", grpc_code: "OK" })).toBe(1);
    } finally {
      await t.close();
      await executor.close();
    }
  });
});

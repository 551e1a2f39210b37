import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { countSchedulerFires, createRunsMetrics, grpcCodeName } from "../../src/telemetry/prometheus.js";
import { Code } from "@connectrpc/connect";

async function families(metrics: ReturnType<typeof createRunsMetrics>) {
  return parsePrometheusTextFormat((await metrics.scrape()).body);
}
const valueOf = (fams: Awaited<ReturnType<typeof families>>, name: string, labels: Record<string, string> = {}) =>
  Number(fams.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

describe("createRunsMetrics", () => {
  it("counts scheduler fires by outcome, missed slots and retries", async () => {
    const metrics = createRunsMetrics();
    const ok = countSchedulerFires(async () => ({}) as never, metrics);
    const failing = countSchedulerFires(async () => {
      throw new Error("executor down");
    }, metrics);
    await ok({} as never);
    await ok({} as never);
    await expect(failing({} as never)).rejects.toThrow("executor down");
    metrics.schedulerMissed(3);
    metrics.abortRetry();
    metrics.enqueueRetry();
    metrics.enqueueRetry();
    const f = await families(metrics);
    expect(valueOf(f, "runs_scheduler_fires_total", { outcome: "ok" })).toBe(2);
    expect(valueOf(f, "runs_scheduler_fires_total", { outcome: "error" })).toBe(1);
    expect(valueOf(f, "runs_scheduler_missed_slots_total")).toBe(3);
    expect(valueOf(f, "runs_abort_retries_total")).toBe(1);
    expect(valueOf(f, "runs_enqueue_retries_total")).toBe(2);
  });

  it("reads its gauges from the sources at scrape time", async () => {
    let subscribers = 2;
    const metrics = createRunsMetrics({
      busSubscribers: () => subscribers,
      abortBacklog: () => ({ queued: 4, waitingRetry: 1, inFlight: 2 }),
      pool: () => ({ total: 10, idle: 7, waiting: 1 }),
      watchInbox: () => ({ coalesced: 12, overflows: 1 }),
    });
    let f = await families(metrics);
    expect(valueOf(f, "runs_event_bus_subscribers")).toBe(2);
    expect(valueOf(f, "runs_abort_reconciler_backlog", { state: "queued" })).toBe(4);
    expect(valueOf(f, "runs_abort_reconciler_backlog", { state: "in_flight" })).toBe(2);
    expect(valueOf(f, "runs_db_pool_connections", { state: "in_use" })).toBe(3);
    expect(valueOf(f, "runs_db_pool_connections", { state: "waiting" })).toBe(1);
    expect(valueOf(f, "runs_watch_updates_coalesced_total")).toBe(12);
    subscribers = 0;
    f = await families(metrics);
    expect(valueOf(f, "runs_event_bus_subscribers")).toBe(0);
  });

  it("spells codes as gRPC does", () => {
    expect(grpcCodeName(undefined)).toBe("OK");
    expect(grpcCodeName(Code.InvalidArgument)).toBe("InvalidArgument");
    expect(grpcCodeName(Code.DeadlineExceeded)).toBe("DeadlineExceeded");
  });
});

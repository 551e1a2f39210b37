/**
 * Prometheus metrics served on the main port (`runs.server.metrics.*`), with
 * prom-client. RPC metrics use the go-grpc-prometheus names flyteadmin v1
 * exported (`grpc_server_*`, `grpc_code` spelled like gRPC: "OK",
 * "InvalidArgument" …), so existing dashboards and alerts carry over; the
 * service's own metrics are prefixed `runs_`; Node process metrics are
 * prom-client's defaults (`process_*`, `nodejs_*`). Each app has its own
 * registry (no global state), read through gauges' collect() at scrape time.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CreateRunFn } from "../scheduler/in-process.js";

export interface Backlog {
  queued: number;
  waitingRetry: number;
  inFlight: number;
}

/** What the gauges read at scrape time; every source is optional. */
export interface MetricSources {
  busSubscribers?: () => number;
  abortBacklog?: () => Backlog | undefined;
  enqueueBacklog?: () => Backlog | undefined;
  /** PostgreSQL pool; undefined on SQLite. */
  pool?: () => { total: number; idle: number; waiting: number };
  /** Process-wide watch inbox counters (coalesced updates, overflows). */
  watchInbox?: () => { coalesced: number; overflows: number };
}

export interface RunsMetrics {
  readonly registry: Registry;
  /** Server interceptor: started/handled counts, handling time, messages, open streams. */
  readonly serverInterceptor: Interceptor;
  /** Client interceptor for the outgoing ActionsService calls. */
  readonly clientInterceptor: Interceptor;
  abortRetry(): void;
  enqueueRetry(): void;
  schedulerFired(outcome: "ok" | "error"): void;
  schedulerMissed(slots: number): void;
  /** The text exposition and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** gRPC's spelling of a code ("OK", "InvalidArgument", …), as go-grpc-prometheus labels it. */
export function grpcCodeName(code: Code | undefined): string {
  return code === undefined ? "OK" : Code[code];
}

const HANDLING_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function grpcType(req: { stream: boolean; method: { methodKind: string } }): string {
  switch (req.method.methodKind) {
    case "server_streaming":
      return "server_stream";
    case "client_streaming":
      return "client_stream";
    case "bidi_streaming":
      return "bidi_stream";
    default:
      return "unary";
  }
}

export function createRunsMetrics(sources: MetricSources = {}): RunsMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rpcLabels = ["grpc_type", "grpc_service", "grpc_method"] as const;

  const started = new Counter({ name: "grpc_server_started_total", help: "RPCs started on the server.", labelNames: rpcLabels, registers: [registry] });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by code.",
    labelNames: [...rpcLabels, "grpc_code"],
    registers: [registry],
  });
  const handling = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from the start of an RPC to its end (streams: until the stream closes).",
    labelNames: rpcLabels,
    buckets: HANDLING_BUCKETS,
    registers: [registry],
  });
  const received = new Counter({ name: "grpc_server_msg_received_total", help: "Request messages received.", labelNames: rpcLabels, registers: [registry] });
  const sent = new Counter({ name: "grpc_server_msg_sent_total", help: "Response messages sent.", labelNames: rpcLabels, registers: [registry] });
  const openStreams = new Gauge({
    name: "runs_open_streams",
    help: "Streaming RPCs open now (Watch* and the executor's status/event streams).",
    labelNames: ["grpc_service", "grpc_method"],
    registers: [registry],
  });
  const clientCalls = new Counter({
    name: "runs_actions_service_calls_total",
    help: "Outgoing ActionsService calls (Enqueue, Abort) by code.",
    labelNames: ["grpc_method", "grpc_code"],
    registers: [registry],
  });
  const abortRetries = new Counter({ name: "runs_abort_retries_total", help: "Abort calls scheduled for another attempt after a failure.", registers: [registry] });
  const enqueueRetries = new Counter({ name: "runs_enqueue_retries_total", help: "Enqueue calls scheduled for another attempt after a failure.", registers: [registry] });
  const schedulerFires = new Counter({
    name: "runs_scheduler_fires_total",
    help: "Scheduled runs the trigger scheduler tried to create, by outcome.",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const schedulerMissed = new Counter({
    name: "runs_scheduler_missed_slots_total",
    help: "Catch-up slots skipped because a pass's catch-up budget was used up.",
    registers: [registry],
  });

  const backlogGauge = (name: string, help: string, read: MetricSources["abortBacklog"]) =>
    new Gauge({
      name,
      help,
      labelNames: ["state"],
      registers: [registry],
      collect() {
        const b = read?.();
        if (!b) return;
        this.set({ state: "queued" }, b.queued);
        this.set({ state: "waiting_retry" }, b.waitingRetry);
        this.set({ state: "in_flight" }, b.inFlight);
      },
    });
  backlogGauge("runs_abort_reconciler_backlog", "Aborts queued, waiting for a retry, or in flight.", sources.abortBacklog);
  backlogGauge("runs_enqueue_retrier_backlog", "Pending Enqueues queued, waiting for a retry, or in flight.", sources.enqueueBacklog);
  new Gauge({
    name: "runs_event_bus_subscribers",
    help: "Subscribers of the change-event bus (one per open watch stream).",
    registers: [registry],
    collect() {
      if (sources.busSubscribers) this.set(sources.busSubscribers());
    },
  });
  new Counter({
    name: "runs_watch_updates_coalesced_total",
    help: "Changes merged into one already waiting for the same entity in a watch stream's inbox.",
    registers: [registry],
    collect() {
      const w = sources.watchInbox?.();
      if (w) this.reset(), this.inc(w.coalesced);
    },
  });
  new Counter({
    name: "runs_watch_inbox_overflows_total",
    help: "Times a watch stream fell so far behind that it re-read everything instead.",
    registers: [registry],
    collect() {
      const w = sources.watchInbox?.();
      if (w) this.reset(), this.inc(w.overflows);
    },
  });
  if (sources.pool) {
    const pool = sources.pool;
    new Gauge({
      name: "runs_db_pool_connections",
      help: "PostgreSQL pool: connections in use, idle, and requests waiting for one.",
      labelNames: ["state"],
      registers: [registry],
      collect() {
        const p = pool();
        this.set({ state: "in_use" }, p.total - p.idle);
        this.set({ state: "idle" }, p.idle);
        this.set({ state: "waiting" }, p.waiting);
      },
    });
  }

  const serverInterceptor: Interceptor = (next) => async (req) => {
    const labels = { grpc_type: grpcType(req), grpc_service: req.service.typeName, grpc_method: req.method.name };
    const t0 = performance.now();
    started.inc(labels);
    const done = (error: unknown) => {
      handled.inc({ ...labels, grpc_code: grpcCodeName(error === undefined ? undefined : ConnectError.from(error).code) });
      handling.observe(labels, (performance.now() - t0) / 1000);
    };
    let call = req;
    if (req.stream) {
      const inner = req.message;
      call = {
        ...req,
        message: (async function* () {
          for await (const m of inner) {
            received.inc(labels);
            yield m;
          }
        })(),
      };
    } else {
      received.inc(labels);
    }
    let res;
    try {
      res = await next(call);
    } catch (error) {
      done(error);
      throw error;
    }
    if (!res.stream) {
      sent.inc(labels);
      done(undefined);
      return res;
    }
    const streamLabels = { grpc_service: labels.grpc_service, grpc_method: labels.grpc_method };
    openStreams.inc(streamLabels);
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        let outcome: unknown = new ConnectError("the client went away", Code.Canceled);
        try {
          for await (const m of inner) {
            sent.inc(labels);
            yield m;
          }
          outcome = req.signal.aborted ? outcome : undefined;
        } catch (error) {
          outcome = error;
          throw error;
        } finally {
          openStreams.dec(streamLabels);
          done(outcome);
        }
      })(),
    };
  };

  const clientInterceptor: Interceptor = (next) => async (req) => {
    try {
      const res = await next(req);
      clientCalls.inc({ grpc_method: req.method.name, grpc_code: "OK" });
      return res;
    } catch (error) {
      clientCalls.inc({ grpc_method: req.method.name, grpc_code: grpcCodeName(ConnectError.from(error).code) });
      throw error;
    }
  };

  return {
    registry,
    serverInterceptor,
    clientInterceptor,
    abortRetry: () => abortRetries.inc(),
    enqueueRetry: () => enqueueRetries.inc(),
    schedulerFired: (outcome) => schedulerFires.inc({ outcome }),
    schedulerMissed: (slots) => schedulerMissed.inc(slots),
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** Counts the trigger scheduler's CreateRun calls by outcome. */
export function countSchedulerFires(createRun: CreateRunFn, metrics: Pick<RunsMetrics, "schedulerFired">): CreateRunFn {
  return async (request) => {
    try {
      const run = await createRun(request);
      metrics.schedulerFired("ok");
      return run;
    } catch (error) {
      metrics.schedulerFired("error");
      throw error;
    }
  };
}

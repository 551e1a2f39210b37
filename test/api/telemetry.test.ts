// OpenTelemetry over a real listener: `otel.type: file` spans (names,
// attributes, parent/child links, a continued traceparent, the trace carried
// on to the executor) and `otel.type: otlphttp` against a local receiver.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortResponseSchema, ActionsService, EnqueueResponseSchema } from "#gen/flyteidl2/actions/actions_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { createMemoryBlobStore } from "../../src/storage/index.js";
import type { FileSpan } from "../../src/telemetry/file-exporter.js";
import { startTestApp, makeTransports, type TestApp } from "../support/app.js";

const PROJECT = "flytesnacks";
const DOMAIN = "development";
const spec = {
  taskTemplate: {
    id: { org: "o", project: PROJECT, domain: DOMAIN, name: "env.hello", version: "v1" },
    type: "python",
    interface: {},
  },
  shortName: "hello",
  environment: { name: "env" },
};
const createRequest = (name: string) => ({
  id: { case: "runId" as const, value: { org: "o", project: PROJECT, domain: DOMAIN, name } },
  task: { case: "taskSpec" as const, value: spec },
});

interface StubExecutor {
  url: string;
  enqueueHeaders: Headers[];
  close(): Promise<void>;
}

async function startStubExecutor(): Promise<StubExecutor> {
  const stub: StubExecutor = { url: "", enqueueHeaders: [], close: async () => undefined };
  const server: Server = createServer(
    connectNodeAdapter({
      routes: (router) =>
        router.service(ActionsService, {
          async enqueue(_req, ctx) {
            stub.enqueueHeaders.push(ctx.requestHeader);
            return create(EnqueueResponseSchema);
          },
          async abort() {
            return create(AbortResponseSchema);
          },
        }),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return stub;
}

function readSpans(file: string): FileSpan[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { span?: FileSpan })
    .flatMap((l) => (l.span ? [l.span] : []));
}

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID = "00f067aa0ba902b7";

describe("otel.type: file", () => {
  let dir: string;
  let file: string;
  let executor: StubExecutor;
  let t: TestApp;
  const logLines: { procedure?: string; traceId?: string; requestId?: string }[] = [];

  beforeAll(async () => {
    const logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
    dir = mkdtempSync(join(tmpdir(), "runs-otel-"));
    file = join(dir, "trace.txt");
    executor = await startStubExecutor();
    t = await startTestApp(
      "sqlite",
      (c) => {
        c.otel.type = "file";
        c.otel.file.filename = file;
        c.runs.actionsServiceUrl = executor.url;
        c.runs.storagePrefix = "s3://bucket/data";
      },
      { blobStore: createMemoryBlobStore(), logger },
    );
  });
  afterAll(async () => {
    await t?.close();
    await executor?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records CreateRun and WatchRuns spans, continues the caller's traceparent and carries it to the executor", async () => {
    const traced = makeTransports(t.baseUrl, [
      (next) => (req) => {
        req.header.set("traceparent", `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`);
        return next(req);
      },
    ]);
    const runs = createClient(RunService, traced["connect-h2"]);
    await runs.createRun(createRequest("traced-run"));

    const watcher = new AbortController();
    const stream = createClient(RunService, t.transports.grpc).watchRuns(
      { target: { case: "projectId", value: { organization: "o", name: PROJECT, domain: DOMAIN } } },
      { signal: watcher.signal },
    );
    const first = await stream[Symbol.asyncIterator]().next();
    expect(first.done).toBe(false);
    watcher.abort();

    // The enqueue went out with a traceparent of the caller's trace.
    expect(executor.enqueueHeaders).toHaveLength(1);
    const sent = executor.enqueueHeaders[0].get("traceparent");
    expect(sent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));

    await expect.poll(async () => {
      await t.app.telemetry.forceFlush();
      return readSpans(file).some((s) => s.name === "flyteidl2.workflow.RunService/WatchRuns");
    }).toBe(true);
    const spans = readSpans(file);
    const server = spans.find((s) => s.name === "flyteidl2.workflow.RunService/CreateRun")!;
    expect(server).toMatchObject({
      kind: "SERVER",
      traceId: TRACE_ID,
      parentSpanId: PARENT_SPAN_ID,
      service: "runs-service",
      status: { code: "UNSET" },
      attributes: { "rpc.system": "connect_rpc", "rpc.service": "flyteidl2.workflow.RunService", "rpc.method": "CreateRun" },
    });
    const children = spans.filter((s) => s.parentSpanId === server.spanId);
    expect(children.some((s) => s.name.startsWith("db ") && s.kind === "CLIENT")).toBe(true);
    const enqueue = children.find((s) => s.name === "flyteidl2.actions.ActionsService/Enqueue")!;
    expect(enqueue).toMatchObject({ kind: "CLIENT", traceId: TRACE_ID });
    // The executor's parent span is our client span.
    expect(sent).toBe(`00-${TRACE_ID}-${enqueue.spanId}-01`);

    const watch = spans.find((s) => s.name === "flyteidl2.workflow.RunService/WatchRuns")!;
    expect(watch).toMatchObject({
      kind: "SERVER",
      attributes: { "rpc.system": "grpc", "rpc.method": "WatchRuns", "rpc.grpc.status_code": 1 },
    });
    expect(watch.traceId).not.toBe(TRACE_ID);
    expect(watch.parentSpanId).toBeUndefined();

    // The call lines carry the trace ids.
    const line = (procedure: string) => logLines.find((l) => l.procedure === `flyteidl2.workflow.RunService/${procedure}`);
    expect(line("CreateRun")).toMatchObject({ traceId: TRACE_ID });
    expect(line("WatchRuns")?.traceId).toBe(watch.traceId);
  });

  it("marks a failed call's span as an error with its Connect code", async () => {
    const runs = createClient(RunService, t.transports["connect-json-h1"]);
    await expect(runs.getRunDetails({})).rejects.toThrow();
    await expect.poll(async () => {
      await t.app.telemetry.forceFlush();
      return readSpans(file).find((s) => s.name === "flyteidl2.workflow.RunService/GetRunDetails");
    }).toMatchObject({ status: { code: "ERROR" }, attributes: { "rpc.connect_rpc.error_code": "invalid_argument" } });
  });
});

describe("otel.type: otlphttp", () => {
  const received: { path: string; body: Buffer }[] = [];
  let receiver: Server;
  let t: TestApp;

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ path: req.url ?? "", body: Buffer.concat(chunks) });
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    t = await startTestApp("sqlite", (c) => {
      c.otel.type = "otlphttp";
      c.otel.otlphttp.endpoint = `http://127.0.0.1:${port}/v1/traces`;
    });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it("sends spans and RPC metrics to the OTLP/HTTP receiver", async () => {
    const runs = createClient(RunService, t.transports["connect-h2"]);
    await runs.listRuns({ request: { limit: 5 }, scopeBy: { case: "projectId", value: { organization: "o", name: PROJECT, domain: DOMAIN } } });
    await expect.poll(async () => {
      await t.app.telemetry.forceFlush();
      const traces = received.filter((r) => r.path === "/v1/traces").map((r) => r.body.toString("latin1"));
      const metrics = received.filter((r) => r.path === "/v1/metrics").map((r) => r.body.toString("latin1"));
      return (
        traces.some((b) => b.includes("flyteidl2.workflow.RunService/ListRuns")) &&
        metrics.some((b) => b.includes("rpc.server.duration") && b.includes("ListRuns"))
      );
    }, { timeout: 10_000 }).toBe(true);
  });
});

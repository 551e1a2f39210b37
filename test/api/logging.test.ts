// Request-scoped logs over a real listener: request ids echoed or generated
// and logged with procedure, code and duration; a client that cancels or
// disconnects is Canceled at debug, never a warning or an error.
import { connect as connectH2 } from "node:http2";
import { Writable } from "node:stream";
import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ServerReflectionRequestSchema } from "#gen/grpc/reflection/v1/reflection_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { createLogger } from "../../src/util/logger.js";
import { makeTransports, startTestApp, type TestApp } from "../support/app.js";

interface Entry {
  level: number;
  msg: string;
  procedure?: string;
  code?: string;
  ms?: number;
  requestId?: string;
  traceId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const projectScope = { case: "projectId" as const, value: { organization: "o", name: "flytesnacks", domain: "development" } };

function captureLogger(): { logger: pino.Logger; entries: Entry[] } {
  const entries: Entry[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) entries.push(JSON.parse(line) as Entry);
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), entries };
}

/** A gRPC length-prefixed message. */
function envelope(bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(bytes.byteLength, 1);
  return Buffer.concat([head, bytes]);
}

describe("request-scoped logs", () => {
  let t: TestApp;
  let entries: Entry[];

  beforeAll(async () => {
    const captured = captureLogger();
    entries = captured.entries;
    t = await startTestApp("sqlite", undefined, { logger: captured.logger });
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    entries.length = 0;
  });
  const callLines = (procedure: string) => entries.filter((e) => e.procedure === `flyteidl2.workflow.RunService/${procedure}`);
  const loud = () => entries.filter((e) => e.level >= 40);

  it("echoes a sent x-request-id and logs it with procedure, code and duration", async () => {
    const transport = makeTransports(t.baseUrl, [
      (next) => (req) => {
        req.header.set("x-request-id", "req-7f3a");
        return next(req);
      },
    ])["connect-json-h1"];
    let echoed: string | null = null;
    await createClient(RunService, transport).listRuns(
      { request: { limit: 1 }, scopeBy: projectScope },
      { onHeader: (h) => (echoed = h.get("x-request-id")) },
    );
    expect(echoed).toBe("req-7f3a");
    const [line] = callLines("ListRuns");
    expect(line).toMatchObject({ level: 20, msg: "call ok", code: "OK", requestId: "req-7f3a" });
    expect(typeof line.ms).toBe("number");
  });

  it("generates a request id when none is sent, on answers and errors alike", async () => {
    const runs = createClient(RunService, t.transports["connect-h2"]);
    let generated: string | null = null;
    await runs.listRuns({ request: { limit: 1 }, scopeBy: projectScope }, { onHeader: (h) => (generated = h.get("x-request-id")) });
    expect(generated).toMatch(UUID);
    expect(callLines("ListRuns")[0].requestId).toBe(generated);

    const error = await runs.getRunDetails({}).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    const onError = error?.metadata.get("x-request-id");
    expect(onError).toMatch(UUID);
    expect(onError).not.toBe(generated);
    expect(callLines("GetRunDetails")[0]).toMatchObject({ level: 40, msg: "call rejected", code: "InvalidArgument", requestId: onError });
  });

  it("a cancelled watch stream is Canceled at debug, with nothing at warn or above", async () => {
    const controller = new AbortController();
    const stream = createClient(RunService, t.transports.grpc).watchRuns({ target: projectScope }, { signal: controller.signal });
    const first = stream[Symbol.asyncIterator]().next().catch(() => undefined);
    await expect.poll(() => t.app.bus.subscriberCount()).toBe(1);
    controller.abort();
    await first;
    await expect.poll(() => callLines("WatchRuns").length).toBe(1);
    expect(callLines("WatchRuns")[0]).toMatchObject({ level: 20, code: "Canceled" });
    expect(loud()).toEqual([]);
  });

  it("a client that disconnects in the middle of a reflection stream is Canceled at debug (no 'Premature close' error)", async () => {
    const session = connectH2(t.baseUrl);
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.write(envelope(toBinary(ServerReflectionRequestSchema, create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }))));
    // The first answer arrives while the request stream is still open; then the client vanishes.
    await new Promise<void>((resolve) => stream.once("data", () => resolve()));
    session.destroy();
    await expect.poll(() => entries.some((e) => e.procedure === "grpc.reflection.v1.ServerReflection/ServerReflectionInfo")).toBe(true);
    const line = entries.find((e) => e.procedure === "grpc.reflection.v1.ServerReflection/ServerReflectionInfo")!;
    expect(line).toMatchObject({ level: 20, code: "Canceled" });
    // Let anything the handler logs late show up, then check nothing was loud.
    await new Promise((r) => setTimeout(r, 50));
    expect(loud()).toEqual([]);
  });
});

describe("logger.formatter.type", () => {
  it("text gives one human-readable line per entry; json stays the default", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const text = createLogger({ level: 5, mute: false, showSource: false, formatter: { type: "text" } }, sink);
    text.child({ component: "rpc" }).debug({ procedure: "flyteidl2.workflow.RunService/CreateRun", code: "OK", ms: 4, requestId: "r-1" }, "call ok");
    const out = lines.join("");
    expect(out.split("\n").filter(Boolean)).toHaveLength(1);
    expect(out).toMatch(
      /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] DEBUG: \[rpc\] call ok \{"procedure":"flyteidl2\.workflow\.RunService\/CreateRun","code":"OK","ms":4,"requestId":"r-1"\}\n$/,
    );

    lines.length = 0;
    text.error({ err: new Error("boom") }, "unexpected error in handler");
    expect(lines.join("").split("\n").filter(Boolean)).toHaveLength(1);
    expect(lines.join("")).toMatch(/ERROR: unexpected error in handler \{"err":\{"type":"Error","message":"boom","stack":"Error: boom\\n/);

    lines.length = 0;
    createLogger({ level: 4, mute: false, showSource: false, formatter: { type: "json" } }, sink).info({ a: 1 }, "hello");
    expect(JSON.parse(lines.join(""))).toMatchObject({ level: 30, msg: "hello", a: 1, service: "runs" });
  });
});

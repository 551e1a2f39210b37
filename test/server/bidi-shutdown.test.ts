// A bidi handler that stops reading while its client keeps sending (as the InternalRunService streams do
// at shutdown) must not leave its HTTP/2 stream open: the server answers, releases the unread rest, and a
// graceful close finishes at once instead of waiting out the grace period.
import { spawn, spawnSync } from "node:child_process";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import {
  InternalRunService,
  UpdateActionStatusStreamResponseSchema,
  type UpdateActionStatusStreamRequest,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { untilAborted } from "../../src/service/internal-run-service/until-aborted.js";
import { logger, startTestServer, type TestServer } from "./http-test-utils.js";

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.stop(100);
  ts = undefined;
});

/** An executor's request stream: items as fast as it can until the test ends it. */
function endless(stop: AbortSignal): AsyncIterable<UpdateActionStatusStreamRequest> {
  return (async function* () {
    for (let i = 1n; !stop.aborted; i++) {
      yield { nonce: i } as UpdateActionStatusStreamRequest;
      await new Promise((r) => setImmediate(r));
    }
  })();
}

/** A Python with grpcio (gRPC C-core, as the Flyte SDK's executor uses), when one is installed. */
const python = [process.env.RUNS_TEST_PYTHON, "python3", "/usr/bin/python3"].find(
  (p) => p !== undefined && spawnSync(p, ["-c", "import grpc"], { stdio: "ignore" }).status === 0,
);

/** A grpcio executor holding UpdateActionStatusStream open; prints READY after 20 answers, then how it ended. */
const GRPCIO_EXECUTOR = [
  "import os, sys, time, grpc",
  "ch = grpc.insecure_channel(sys.argv[1])",
  "call = ch.stream_stream('/flyteidl2.workflow.InternalRunService/UpdateActionStatusStream', request_serializer=lambda b: b, response_deserializer=lambda b: b)",
  "def items():",
  "    while True:",
  "        yield b''",
  "        time.sleep(0.002)",
  "n = 0",
  "try:",
  "    for _ in call(items()):",
  "        n += 1",
  "        if n == 20: print('READY', flush=True)",
  "    print('OK', flush=True)",
  "except grpc.RpcError as e:",
  "    print(e.code().name, e.details(), flush=True)",
  "os._exit(0)",
].join("\n");

const handlerStoppingAtShutdown = {
  async *updateActionStatusStream(requests: AsyncIterable<UpdateActionStatusStreamRequest>, ctx: { signal: AbortSignal }) {
    for await (const item of untilAborted(requests, ctx.signal)) {
      await new Promise((r) => setTimeout(r, 5)); // a write in progress
      yield create(UpdateActionStatusStreamResponseSchema, { nonce: item.nonce });
    }
  },
};

describe("bidi streams at shutdown", () => {
  it.skipIf(python === undefined)("end with status OK for a grpcio client (not UNAVAILABLE), and the server closes at once", async () => {
    ts = await startTestServer({ routes: (router) => router.service(InternalRunService, handlerStoppingAtShutdown), logger });
    const child = spawn(python!, ["-c", GRPCIO_EXECUTOR, `127.0.0.1:${ts.port}`], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("READY")) resolve();
      });
      child.on("exit", () => reject(new Error(`grpcio client exited early: ${out}`)));
    });
    const closing = Date.now();
    ts.shutdown.abort();
    await ts.server.close({ graceMs: 20_000 });
    expect(Date.now() - closing).toBeLessThan(10_000); // the grace period is 20 s
    await exited;
    expect(out.trim().split("\n").at(-1)).toBe("OK");
    ts = undefined;
  });

  it("answer the item in hand, end with OK, and let the server close long before its grace period", async () => {
    let handled = 0;
    ts = await startTestServer({
      routes: (router) =>
        router.service(InternalRunService, {
          async *updateActionStatusStream(requests, ctx) {
            for await (const item of untilAborted(requests, ctx.signal)) {
              await new Promise((r) => setTimeout(r, 5)); // a write in progress
              handled++;
              yield create(UpdateActionStatusStreamResponseSchema, { nonce: item.nonce });
            }
          },
        }),
      logger,
    });
    const client = createClient(InternalRunService, createGrpcTransport({ baseUrl: ts.baseUrl }));
    const stopSending = new AbortController();
    const acked: bigint[] = [];
    const streams = [0, 1, 2].map(async () => {
      for await (const r of client.updateActionStatusStream(endless(stopSending.signal))) acked.push(r.nonce);
      return "ok";
    });
    while (acked.length < 30) await new Promise((r) => setTimeout(r, 5));

    const closing = Date.now();
    ts.shutdown.abort();
    await ts.server.close({ graceMs: 20_000 });
    const closeMs = Date.now() - closing;
    stopSending.abort();
    expect(await Promise.all(streams)).toEqual(["ok", "ok", "ok"]);
    expect(acked.length).toBe(handled); // every item handled was answered
    expect(closeMs).toBeLessThan(10_000); // the grace period is 20 s
    ts = undefined;
  });
});

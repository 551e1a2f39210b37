// A bidi handler that stops reading while its client keeps sending (as the InternalRunService streams do
// at shutdown) must not leave its HTTP/2 stream open: the server answers, releases the unread rest, and a
// graceful close finishes at once instead of waiting out the grace period.
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

describe("bidi streams at shutdown", () => {
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

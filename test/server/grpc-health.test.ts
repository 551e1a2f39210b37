import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "#gen/grpc/health/v1/health_pb.js";
import { registerHealth } from "../../src/server/grpc-health.js";

let server: http2.Http2Server;
let baseUrl: string;
const sessions = new Set<http2.ServerHttp2Session>();

// What the check function does next: resolve true/false, or throw.
let state: boolean | "throw" = true;
let checkCalls = 0;
const POLL_MS = 25;

function routes(router: ConnectRouter): void {
  router.service(ProjectService, {});
  registerHealth(router, {
    check: async () => {
      checkCalls++;
      if (state === "throw") throw new Error("database unreachable");
      return state;
    },
    services: [ProjectService.typeName],
    pollIntervalMs: POLL_MS,
  });
}

beforeAll(async () => {
  server = http2.createServer(connectNodeAdapter({ routes }));
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sessions) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  state = true;
});

const client = () => createClient(Health, createGrpcTransport({ baseUrl }));

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out");
    await sleep(5);
  }
}

describe("grpc.health.v1.Health/Check", () => {
  it("follows the check function for the server and mounted services", async () => {
    const c = client();
    expect((await c.check({ service: "" })).status).toBe(Status.SERVING);
    expect((await c.check({ service: "flyteidl2.project.ProjectService" })).status).toBe(Status.SERVING);
    state = false;
    expect((await c.check({ service: "" })).status).toBe(Status.NOT_SERVING);
    expect((await c.check({ service: "flyteidl2.project.ProjectService" })).status).toBe(Status.NOT_SERVING);
    state = "throw";
    expect((await c.check({})).status).toBe(Status.NOT_SERVING);
    state = true;
    expect((await c.check({})).status).toBe(Status.SERVING);
  });

  it("answers NOT_FOUND for an unknown service", async () => {
    const err = await client()
      .check({ service: "no.such.Service" })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("lists the status of every known service", async () => {
    state = false;
    const res = await client().list({});
    expect(Object.keys(res.statuses).sort()).toEqual(["", "flyteidl2.project.ProjectService"]);
    expect(res.statuses[""].status).toBe(Status.NOT_SERVING);
  });
});

describe("grpc.health.v1.Health/Watch", () => {
  it("sends the current status, then only changes, and stops when cancelled", async () => {
    const ac = new AbortController();
    const it = client().watch({ service: "" }, { signal: ac.signal })[Symbol.asyncIterator]();

    const first = await it.next();
    expect(first.value?.status).toBe(Status.SERVING);

    // Several polls with no change must not produce messages: the next one
    // received is the change.
    await sleep(POLL_MS * 4);
    state = false;
    const second = await it.next();
    expect(second.value?.status).toBe(Status.NOT_SERVING);

    state = "throw"; // still NOT_SERVING: no message
    await sleep(POLL_MS * 3);
    state = true;
    const third = await it.next();
    expect(third.value?.status).toBe(Status.SERVING);

    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: Code.Canceled });

    // The server stops polling once the client is gone.
    await sleep(POLL_MS * 2);
    const calls = checkCalls;
    await sleep(POLL_MS * 6);
    expect(checkCalls).toBe(calls);
  });

  it("sends SERVICE_UNKNOWN for an unknown service", async () => {
    const ac = new AbortController();
    const it = client().watch({ service: "no.such.Service" }, { signal: ac.signal })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.status).toBe(Status.SERVICE_UNKNOWN);
    ac.abort();
    await expect(it.next()).rejects.toMatchObject({ code: Code.Canceled });
  });

  it("watches a mounted service", async () => {
    state = false;
    const ac = new AbortController();
    const stream = client().watch({ service: "flyteidl2.project.ProjectService" }, { signal: ac.signal });
    const seen: Status[] = [];
    const done = (async () => {
      try {
        for await (const res of stream) {
          seen.push(res.status);
          if (seen.length === 1) state = true;
        }
      } catch (e) {
        if (!(e instanceof ConnectError && e.code === Code.Canceled)) throw e;
      }
    })();
    await waitFor(() => seen.length >= 2);
    ac.abort();
    await done;
    expect(seen).toEqual([Status.NOT_SERVING, Status.SERVING]);
  });
});

import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { startHttpServer } from "../../src/server/http-server.js";
import { behaviour, envelope, h1Request, h2Request, logger, resetBehaviour, startTestServer } from "./http-test-utils.js";
import type { TestServer } from "./http-test-utils.js";

let ts: TestServer;
const managers: Http2SessionManager[] = [];

function h2Manager(baseUrl: string): Http2SessionManager {
  const m = new Http2SessionManager(baseUrl);
  managers.push(m);
  return m;
}

type TransportName = "connect-json-h1" | "connect-proto-h2" | "grpc" | "grpc-web-h1" | "grpc-web-h2";

function transport(name: TransportName, baseUrl: string): Transport {
  switch (name) {
    case "connect-json-h1":
      return createConnectTransport({ baseUrl, httpVersion: "1.1" });
    case "connect-proto-h2":
      return createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager: h2Manager(baseUrl) });
    case "grpc":
      return createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl) });
    case "grpc-web-h1":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
    case "grpc-web-h2":
      return createGrpcWebTransport({ baseUrl, httpVersion: "2", sessionManager: h2Manager(baseUrl) });
  }
}

const ALL: TransportName[] = ["connect-json-h1", "connect-proto-h2", "grpc", "grpc-web-h1", "grpc-web-h2"];

beforeEach(async () => {
  resetBehaviour();
  ts = await startTestServer();
});

afterEach(async () => {
  for (const m of managers.splice(0)) m.abort();
  await ts.stop(500);
});

describe("one port, HTTP/1.1 and h2c", () => {
  it.each(ALL)("serves ListProjects over %s", async (name) => {
    const client = createClient(ProjectService, transport(name, ts.baseUrl));
    const res = await client.listProjects({});
    expect(res.projects?.projects.map((p) => p.id)).toEqual(["flytesnacks"]);
  });

  it.each(ALL)("reports handler errors over %s", async (name) => {
    const client = createClient(ProjectService, transport(name, ts.baseUrl));
    const err = await client.getProject({ id: "nope" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    expect((err as ConnectError).rawMessage).toBe("project nope not found");
  });

  it("reports the real port when asked for port 0", () => {
    expect(ts.port).toBeGreaterThan(0);
    expect(ts.server.host).toBe("127.0.0.1");
  });

  it("serves /healthz and /readyz over HTTP/1.1 (fetch) and HTTP/2", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const r1 = await fetch(ts.baseUrl + path);
      expect(r1.status).toBe(200);
      expect(await r1.text()).toBe("OK");
      const r2 = await h2Request(ts.baseUrl, path);
      expect(r2.status).toBe(200);
      expect(r2.body.toString()).toBe("OK");
      expect(String(r2.headers["content-type"])).toMatch(/^text\/plain/);
    }
  });

  it("answers unknown paths with 404 on both protocols", async () => {
    expect((await fetch(ts.baseUrl + "/nope")).status).toBe(404);
    expect((await h2Request(ts.baseUrl, "/nope")).status).toBe(404);
  });

  it("keeps an HTTP/1.1 connection alive across requests", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ports = new Set<number>();
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => {
          http
            .get(ts.baseUrl + "/healthz", { agent }, (res) => {
              ports.add(res.socket.localPort ?? 0);
              res.resume();
              res.on("end", resolve);
            })
            .on("error", reject);
        });
      }
      expect(ports.size).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it("handles a preface or request line split across packets", async () => {
    // A proxy that forwards the first client bytes one at a time.
    const proxy = net.createServer((client) => {
      const upstream = net.connect(ts.port, "127.0.0.1");
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
      upstream.pipe(client);
      client.once("data", async (chunk: Buffer) => {
        client.pause();
        const pieces = [chunk.subarray(0, 1), chunk.subarray(1, 5), chunk.subarray(5, 17), chunk.subarray(17)];
        for (const p of pieces) {
          if (p.length) upstream.write(p);
          await sleep(15);
        }
        client.pipe(upstream);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    try {
      const r2 = await h2Request(proxyUrl, "/healthz");
      expect(r2.status).toBe(200);
      const r1 = await h1Request(proxyUrl, "/healthz", { method: "POST", body: "x" });
      expect(r1.status).toBe(200);
      expect(r1.body.toString()).toBe("OK");
    } finally {
      proxy.close();
    }
  });

  it("reads an HTTP/1.1 body that arrives after the headers", async () => {
    const body = JSON.stringify({ limit: 5 });
    const sock = net.connect(ts.port, "127.0.0.1");
    await new Promise((r) => sock.once("connect", r));
    const chunks: Buffer[] = [];
    sock.on("data", (c: Buffer) => chunks.push(c));
    sock.write(
      "POST /flyteidl2.project.ProjectService/ListProjects HTTP/1.1\r\n" +
        "Host: x\r\nContent-Type: application/json\r\nConnection: close\r\n" +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    await sleep(50);
    sock.write(body.slice(0, 3));
    await sleep(50);
    sock.write(body.slice(3));
    await new Promise((r) => sock.once("close", r));
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toContain('"flytesnacks"');
  });

  it("closes connections that never send anything after the detection timeout", async () => {
    const server = await startHttpServer({
      host: "127.0.0.1",
      port: 0,
      handler: (_req, res) => res.end(),
      logger,
      protocolDetectTimeoutMs: 100,
    });
    try {
      const sock = net.connect(server.port, "127.0.0.1");
      sock.on("error", () => undefined);
      const t0 = Date.now();
      await new Promise((r) => sock.once("close", r));
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await server.close({ graceMs: 100 });
    }
  });

  it("rejects a second server on a port in use", async () => {
    await expect(
      startHttpServer({ host: "127.0.0.1", port: ts.port, handler: (_q, s) => s.end(), logger }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe("graceful close", () => {
  it("lets an in-flight unary call finish on HTTP/2 and HTTP/1.1", async () => {
    behaviour.updateDelayMs = 400;
    const h2 = createClient(ProjectService, transport("connect-proto-h2", ts.baseUrl));
    const h1 = createClient(ProjectService, transport("connect-json-h1", ts.baseUrl));
    const calls = [h2.updateProject({}), h1.updateProject({})];
    await sleep(100);
    const t0 = Date.now();
    await ts.stop(5000);
    const elapsed = Date.now() - t0;
    await expect(Promise.all(calls)).resolves.toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(2000);
  });

  it("ends open server streams promptly when the shutdown signal fires (gRPC over h2, Connect over 1.1)", async () => {
    const streams = [
      createClient(RunService, transport("grpc", ts.baseUrl)).watchRuns({}),
      createClient(RunService, transport("connect-json-h1", ts.baseUrl)).watchRuns({}),
      createClient(RunService, transport("grpc-web-h2", ts.baseUrl)).watchRuns({}),
    ];
    const drained = streams.map(async (s) => {
      let n = 0;
      try {
        for await (const _ of s) n++;
        return { n, error: undefined };
      } catch (e) {
        return { n, error: ConnectError.from(e) };
      }
    });
    while (behaviour.watchStarted < 3) await sleep(5);
    await sleep(50);
    const t0 = Date.now();
    await ts.stop(10_000);
    const results = await Promise.all(drained);
    expect(Date.now() - t0).toBeLessThan(2000);
    for (const r of results) {
      expect(r.n).toBe(1);
      expect(r.error).toBeUndefined();
    }
    expect(behaviour.watchEnded).toBe(3);
  });

  it("destroys what is left once the grace period is over", async () => {
    behaviour.watchIgnoresSignal = true;
    const stream = createClient(RunService, transport("grpc", ts.baseUrl)).watchRuns({});
    const drained = (async () => {
      try {
        for await (const _ of stream) {
          /* keep reading */
        }
        return undefined;
      } catch (e) {
        return ConnectError.from(e);
      }
    })();
    while (behaviour.watchStarted < 1) await sleep(5);
    const t0 = Date.now();
    await ts.stop(300);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2000);
    const err = await drained;
    expect(err).toBeInstanceOf(ConnectError);
  });

  it("refuses new connections as soon as close starts", async () => {
    behaviour.updateDelayMs = 300;
    const client = createClient(ProjectService, transport("connect-json-h1", ts.baseUrl));
    const inflight = client.updateProject({});
    await sleep(50);
    const closing = ts.stop(5000);
    await expect(fetch(ts.baseUrl + "/healthz")).rejects.toThrow();
    await expect(h2Request(ts.baseUrl, "/healthz")).rejects.toThrow();
    await inflight;
    await closing;
  });

  it("sends GOAWAY to HTTP/2 clients and closes idle HTTP/1.1 keep-alive sockets", async () => {
    const session = http2.connect(ts.baseUrl);
    session.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      const s = session.request({ ":path": "/healthz" });
      s.on("error", reject);
      s.resume();
      s.on("end", resolve);
      s.end();
    });
    const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));

    const agent = new http.Agent({ keepAlive: true });
    // (wrapped in an object: resolving with a bare promise would wait for it)
    const { socketClosed } = await new Promise<{ socketClosed: Promise<void> }>((resolve, reject) => {
      http
        .get(ts.baseUrl + "/healthz", { agent }, (res) => {
          const sock = res.socket;
          const socketClosed = new Promise<void>((r) => sock.once("close", () => r()));
          res.resume();
          res.on("end", () => resolve({ socketClosed }));
        })
        .on("error", reject);
    });

    const t0 = Date.now();
    await ts.stop(10_000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    await socketClosed;
    expect(Date.now() - t0).toBeLessThan(1000);
    agent.destroy();
    session.destroy();
  });

  it("does not wait the whole grace period for a half-open HTTP/1.1 peer", async () => {
    behaviour.updateDelayMs = 200;
    const sock = net.connect({ port: ts.port, host: "127.0.0.1", allowHalfOpen: true });
    await new Promise((r) => sock.once("connect", r));
    const chunks: Buffer[] = [];
    sock.on("data", (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => sock.once("end", r));
    sock.write(
      "POST /flyteidl2.project.ProjectService/UpdateProject HTTP/1.1\r\n" +
        "Host: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    );
    await sleep(50);
    const t0 = Date.now();
    await ts.stop(10_000);
    expect(Date.now() - t0).toBeLessThan(3000);
    await ended; // the server sent FIN; this client never sends its own
    sock.destroy();
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.toLowerCase()).toContain("connection: close");
  });

  it("does not wait the whole grace period for a half-open peer of an HTTP/1.1 stream", async () => {
    const sock = net.connect({ port: ts.port, host: "127.0.0.1", allowHalfOpen: true });
    await new Promise((r) => sock.once("connect", r));
    const chunks: Buffer[] = [];
    sock.on("data", (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => sock.once("end", r));
    const body = envelope(0, Buffer.from("{}"));
    sock.write(
      "POST /flyteidl2.workflow.RunService/WatchRuns HTTP/1.1\r\n" +
        `Host: x\r\nContent-Type: application/connect+json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    sock.write(body);
    while (behaviour.watchStarted < 1) await sleep(5);
    await sleep(20);
    const t0 = Date.now();
    await ts.stop(10_000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(3000);
    await ended;
    sock.destroy();
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(behaviour.watchEnded).toBe(1);
  });

  it("resolves well before the grace period when nothing is in flight", async () => {
    const client = createClient(ProjectService, transport("grpc", ts.baseUrl));
    await client.listProjects({});
    const t0 = Date.now();
    await ts.stop(30_000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("is idempotent", async () => {
    const a = ts.server.close({ graceMs: 1000 });
    const b = ts.server.close();
    await Promise.all([a, b]);
  });
});

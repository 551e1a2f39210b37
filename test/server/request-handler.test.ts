import * as zlib from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as http from "node:http";
import { create, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, cors, createClient } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import {
  GetProjectRequestSchema,
  ListProjectsRequestSchema,
  ProjectService,
} from "#gen/flyteidl2/project/project_service_pb.js";
import { RunService, WatchRunsRequestSchema } from "#gen/flyteidl2/workflow/run_service_pb.js";
import {
  envelope,
  h1Request,
  h2Request,
  MAX_REQUEST_BYTES,
  parseEnvelopes,
  parseGrpcWebTrailer,
  resetBehaviour,
  startTestServer,
  TRUNCATED_PROTO,
} from "./http-test-utils.js";
import type { RawResponse, TestServer } from "./http-test-utils.js";

const GET_PROJECT = "/flyteidl2.project.ProjectService/GetProject";
const LIST_PROJECTS = "/flyteidl2.project.ProjectService/ListProjects";
const CREATE_PROJECT = "/flyteidl2.project.ProjectService/CreateProject";
const WATCH_RUNS = "/flyteidl2.workflow.RunService/WatchRuns";

/**
 * Messages whose binary encoding is truncated: an unknown field is written
 * verbatim after its tag, so tag(1, LEN) + [0x05, 0x61] gives `0a 05 61`, a
 * length-delimited field announcing 5 bytes with only 1 present.
 */
const TRUNCATED_FIELD = [{ no: 1, wireType: WireType.LengthDelimited, data: Uint8Array.of(0x05, 0x61) }];
function malformedGetProject() {
  const msg = create(GetProjectRequestSchema);
  msg.$unknown = TRUNCATED_FIELD;
  return msg;
}
function malformedWatchRuns() {
  const msg = create(WatchRunsRequestSchema);
  msg.$unknown = [{ ...TRUNCATED_FIELD[0], no: 2 }];
  return msg;
}

const managers: Http2SessionManager[] = [];
function h2Manager(baseUrl: string): Http2SessionManager {
  const m = new Http2SessionManager(baseUrl);
  managers.push(m);
  return m;
}
afterEach(() => {
  for (const m of managers.splice(0)) m.abort();
  resetBehaviour();
});

function grpcStatus(res: RawResponse): { status: string | undefined; message: string } {
  const src = res.trailers["grpc-status"] !== undefined ? res.trailers : res.headers;
  return {
    status: src["grpc-status"] as string | undefined,
    message: decodeURIComponent(String(src["grpc-message"] ?? "")),
  };
}

function grpcWebStatus(res: RawResponse): { status: string | undefined; message: string } {
  const frames = parseEnvelopes(res.body);
  const trailer = frames.find((f) => f.flags & 0x80);
  expect(trailer).toBeDefined();
  const t = parseGrpcWebTrailer(trailer!.data);
  return { status: t["grpc-status"], message: decodeURIComponent(t["grpc-message"] ?? "") };
}

/** The Connect end-stream message (flag 0x02) of a streaming response. */
function connectEndStream(res: RawResponse): { error?: { code: string; message: string } } {
  const end = parseEnvelopes(res.body).find((f) => f.flags & 0x02);
  expect(end).toBeDefined();
  return JSON.parse(end!.data.toString()) as { error?: { code: string; message: string } };
}

describe("health endpoints", () => {
  let ts: TestServer;
  let failure: Error | undefined;
  beforeAll(async () => {
    ts = await startTestServer({
      readiness: async () => {
        if (failure) throw failure;
      },
    });
  });
  afterAll(() => ts.stop(500));

  it("/healthz answers 200 OK to any method", async () => {
    for (const method of ["GET", "POST", "PUT", "DELETE"]) {
      const r = await fetch(ts.baseUrl + "/healthz", { method });
      expect(r.status).toBe(200);
      expect(await r.text()).toBe("OK");
    }
    const head = await fetch(ts.baseUrl + "/healthz", { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("/readyz reports the readiness check, with the reason when it fails", async () => {
    failure = undefined;
    const ok = await fetch(ts.baseUrl + "/readyz?verbose=1");
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("OK");

    failure = new Error("database ping failed: connection refused");
    const r1 = await fetch(ts.baseUrl + "/readyz");
    expect(r1.status).toBe(503);
    expect(r1.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await r1.text()).toBe("database ping failed: connection refused");
    const r2 = await h2Request(ts.baseUrl, "/readyz", { method: "POST" });
    expect(r2.status).toBe(503);
    expect(r2.body.toString()).toBe("database ping failed: connection refused");

    failure = undefined;
    expect((await fetch(ts.baseUrl + "/readyz")).status).toBe(200);
  });
});

describe("CORS", () => {
  const ALLOWED = "https://ui.example.com";
  let on: TestServer;
  let any: TestServer;
  let off: TestServer;
  beforeAll(async () => {
    on = await startTestServer({ corsAllowedOrigins: [ALLOWED, "http://localhost:8080"] });
    any = await startTestServer({ corsAllowedOrigins: ["*"] });
    off = await startTestServer({ corsAllowedOrigins: [] });
  });
  afterAll(async () => {
    await Promise.all([on.stop(500), any.stop(500), off.stop(500)]);
  });

  const preflightHeaders = (origin: string) => ({
    Origin: origin,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,connect-protocol-version",
  });

  it("answers a preflight from an allowed origin", async () => {
    const r = await h1Request(on.baseUrl, LIST_PROJECTS, { method: "OPTIONS", headers: preflightHeaders(ALLOWED) });
    expect(r.status).toBe(204);
    expect(r.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(r.headers["access-control-allow-methods"]).toBe(cors.allowedMethods.join(", "));
    expect(r.headers["access-control-allow-headers"]).toBe(cors.allowedHeaders.join(", "));
    expect(r.headers["access-control-max-age"]).toBe("7200");
    expect(String(r.headers["vary"])).toMatch(/Origin/);

    const r2 = await h2Request(on.baseUrl, LIST_PROJECTS, { method: "OPTIONS", headers: preflightHeaders(ALLOWED) });
    expect(r2.status).toBe(204);
    expect(r2.headers["access-control-allow-origin"]).toBe(ALLOWED);
  });

  it("adds Allow-Origin and Expose-Headers to actual responses for an allowed origin", async () => {
    const r = await h1Request(on.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { Origin: ALLOWED, "Content-Type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBe(ALLOWED);
    expect(r.headers["access-control-expose-headers"]).toBe(cors.exposedHeaders.join(", "));
    expect(JSON.parse(r.body.toString())).toMatchObject({ projects: { projects: [{ id: "flytesnacks" }] } });

    // also on errors and on the health endpoints
    const nf = await h1Request(on.baseUrl, GET_PROJECT, {
      method: "POST",
      headers: { Origin: ALLOWED, "Content-Type": "application/json" },
      body: '{"id":"x"}',
    });
    expect(nf.status).toBe(404);
    expect(nf.headers["access-control-allow-origin"]).toBe(ALLOWED);
    const hz = await h1Request(on.baseUrl, "/healthz", { headers: { Origin: ALLOWED } });
    expect(hz.headers["access-control-allow-origin"]).toBe(ALLOWED);
  });

  it("adds no CORS headers for another origin", async () => {
    const pre = await h1Request(on.baseUrl, LIST_PROJECTS, {
      method: "OPTIONS",
      headers: preflightHeaders("https://evil.example.com"),
    });
    expect(pre.status).not.toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
    expect(pre.headers["access-control-allow-methods"]).toBeUndefined();
    const r = await h1Request(on.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { Origin: "https://evil.example.com", "Content-Type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBeUndefined();
    expect(r.headers["access-control-expose-headers"]).toBeUndefined();
  });

  it("echoes any origin when the list contains *", async () => {
    const pre = await h1Request(any.baseUrl, LIST_PROJECTS, { method: "OPTIONS", headers: preflightHeaders("https://a.b") });
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe("https://a.b");
  });

  it("is off when no origins are configured", async () => {
    const pre = await h1Request(off.baseUrl, LIST_PROJECTS, { method: "OPTIONS", headers: preflightHeaders(ALLOWED) });
    expect(pre.status).toBe(405);
    expect(pre.headers["access-control-allow-origin"]).toBeUndefined();
    const r = await h1Request(off.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { Origin: ALLOWED, "Content-Type": "application/json" },
      body: "{}",
    });
    expect(r.status).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("malformed requests are InvalidArgument", () => {
  let ts: TestServer;
  const seen: Code[] = [];
  // An application interceptor (inside ours) sees the corrected code for streams.
  const recorder: Interceptor = (next) => async (req) => {
    try {
      const res = await next(req);
      if (res.stream) {
        return {
          ...res,
          message: (async function* () {
            try {
              yield* res.message;
            } catch (e) {
              seen.push(ConnectError.from(e).code);
              throw e;
            }
          })(),
        };
      }
      return res;
    } catch (e) {
      seen.push(ConnectError.from(e).code);
      throw e;
    }
  };
  beforeAll(async () => {
    ts = await startTestServer({ interceptors: [recorder] });
  });
  afterAll(() => ts.stop(500));

  it("Connect unary, binary: truncated protobuf ⇒ 400 invalid_argument (HTTP/1.1 and HTTP/2)", async () => {
    const r1 = await fetch(ts.baseUrl + GET_PROJECT, {
      method: "POST",
      headers: { "Content-Type": "application/proto" },
      body: TRUNCATED_PROTO,
    });
    expect(r1.status).toBe(400);
    expect(r1.headers.get("content-type")).toBe("application/json");
    const j1 = (await r1.json()) as { code: string; message: string };
    expect(j1.code).toBe("invalid_argument");
    expect(j1.message).toMatch(/^parse binary: /);

    const r2 = await h2Request(ts.baseUrl, GET_PROJECT, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: TRUNCATED_PROTO,
    });
    expect(r2.status).toBe(400);
    expect(JSON.parse(r2.body.toString())).toMatchObject({ code: "invalid_argument" });
    expect(Number(r2.headers["content-length"])).toBe(r2.body.length);
  });

  it("Connect unary, binary, gzip-compressed ⇒ 400 invalid_argument", async () => {
    const r = await h1Request(ts.baseUrl, GET_PROJECT, {
      method: "POST",
      headers: { "Content-Type": "application/proto", "Content-Encoding": "gzip", "Accept-Encoding": "gzip" },
      body: zlib.gzipSync(TRUNCATED_PROTO),
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: "invalid_argument" });
  });

  it("gRPC: truncated protobuf ⇒ grpc-status 3", async () => {
    const r = await h2Request(ts.baseUrl, GET_PROJECT, {
      method: "POST",
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: envelope(0, TRUNCATED_PROTO),
    });
    expect(r.status).toBe(200);
    const s = grpcStatus(r);
    expect(s.status).toBe("3");
    expect(s.message).toMatch(/^parse binary: /);
  });

  it("gRPC-Web: truncated protobuf ⇒ grpc-status 3 in the trailer frame (HTTP/1.1 and HTTP/2)", async () => {
    const init = {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: envelope(0, TRUNCATED_PROTO),
    };
    for (const r of [await h1Request(ts.baseUrl, GET_PROJECT, init), await h2Request(ts.baseUrl, GET_PROJECT, init)]) {
      expect(r.status).toBe(200);
      const s = grpcWebStatus(r);
      expect(s.status).toBe("3");
      expect(s.message).toMatch(/^parse binary: /);
    }
  });

  it("connect-es clients of every protocol see InvalidArgument (unary and server streaming)", async () => {
    const baseUrl = ts.baseUrl;
    const transports = {
      "connect-proto-h1": createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
      "connect-proto-h2": createConnectTransport({
        baseUrl,
        httpVersion: "2",
        useBinaryFormat: true,
        sessionManager: h2Manager(baseUrl),
      }),
      grpc: createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl) }),
      "grpc-web-h1": createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
      "grpc-web-h2": createGrpcWebTransport({ baseUrl, httpVersion: "2", sessionManager: h2Manager(baseUrl) }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      const unary = await createClient(ProjectService, transport)
        .getProject(malformedGetProject())
        .catch((e: unknown) => ConnectError.from(e));
      expect(unary, name).toBeInstanceOf(ConnectError);
      expect((unary as ConnectError).code, name).toBe(Code.InvalidArgument);
      expect((unary as ConnectError).rawMessage, name).toMatch(/^parse binary: /);

      const stream = createClient(RunService, transport).watchRuns(malformedWatchRuns());
      const err = await (async () => {
        for await (const _ of stream) {
          /* nothing expected */
        }
      })().then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err, name).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code, name).toBe(Code.InvalidArgument);
      expect((err as ConnectError).rawMessage, name).toMatch(/^parse binary: /);
    }
  });

  it("server streaming: malformed request ⇒ InvalidArgument over Connect, gRPC and gRPC-Web", async () => {
    const connect = await h1Request(ts.baseUrl, WATCH_RUNS, {
      method: "POST",
      headers: { "content-type": "application/connect+proto" },
      body: envelope(0, TRUNCATED_PROTO),
    });
    expect(connect.status).toBe(200);
    const end = connectEndStream(connect);
    expect(end.error?.code).toBe("invalid_argument");
    expect(end.error?.message).toMatch(/^parse binary: /);

    const grpc = await h2Request(ts.baseUrl, WATCH_RUNS, {
      method: "POST",
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: envelope(0, TRUNCATED_PROTO),
    });
    expect(grpcStatus(grpc).status).toBe("3");

    const grpcWeb = await h1Request(ts.baseUrl, WATCH_RUNS, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: envelope(0, TRUNCATED_PROTO),
    });
    expect(grpcWebStatus(grpcWeb).status).toBe("3");
    expect(seen.filter((c) => c === Code.InvalidArgument).length).toBeGreaterThanOrEqual(3);
  });

  it("leaves an Internal error raised by the implementation alone, even if it says 'parse binary:'", async () => {
    const connect = await fetch(ts.baseUrl + CREATE_PROJECT, {
      method: "POST",
      headers: { "Content-Type": "application/proto" },
      body: new Uint8Array(0),
    });
    expect(connect.status).toBe(500);
    expect(await connect.json()).toMatchObject({ code: "internal", message: "parse binary: downstream said nonsense" });

    const grpc = await h2Request(ts.baseUrl, CREATE_PROJECT, {
      method: "POST",
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: envelope(0, new Uint8Array(0)),
    });
    expect(grpcStatus(grpc).status).toBe("13");

    const grpcWeb = await h1Request(ts.baseUrl, CREATE_PROJECT, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: envelope(0, new Uint8Array(0)),
    });
    expect(grpcWebStatus(grpcWeb).status).toBe("13");
  });

  it("malformed JSON ⇒ 400 invalid_argument", async () => {
    for (const body of ["{not json", '{"id": 42, "org": []}', "[]"]) {
      const r = await fetch(ts.baseUrl + GET_PROJECT, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      expect(r.status, body).toBe(400);
      expect(((await r.json()) as { code: string }).code, body).toBe("invalid_argument");
    }
  });
});

describe("request size limits and gzip", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(() => ts.stop(500));

  const bigRequest = () => ({ filters: "x".repeat(MAX_REQUEST_BYTES + 10) });

  it.each(["connect-json-h1", "connect-proto-h2", "grpc", "grpc-web-h1"] as const)(
    "a message larger than maxRequestBytes ⇒ ResourceExhausted over %s",
    async (name) => {
      const baseUrl = ts.baseUrl;
      const transport =
        name === "connect-json-h1"
          ? createConnectTransport({ baseUrl, httpVersion: "1.1" })
          : name === "connect-proto-h2"
            ? createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager: h2Manager(baseUrl) })
            : name === "grpc"
              ? createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl) })
              : createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
      const client = createClient(ProjectService, transport);
      const err = await client.listProjects(bigRequest()).catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
    },
  );

  it("a gzip-compressed request works with every client (Connect, gRPC, gRPC-Web)", async () => {
    const baseUrl = ts.baseUrl;
    const opts = { sendCompression: compressionGzip, compressMinBytes: 1 };
    for (const transport of [
      createConnectTransport({ baseUrl, httpVersion: "1.1", ...opts }),
      createConnectTransport({ baseUrl, httpVersion: "2", sessionManager: h2Manager(baseUrl), ...opts }),
      createGrpcTransport({ baseUrl, sessionManager: h2Manager(baseUrl), ...opts }),
      createGrpcWebTransport({ baseUrl, httpVersion: "1.1", ...opts }),
    ]) {
      const res = await createClient(ProjectService, transport).listProjects({ filters: "y".repeat(5000) });
      expect(res.projects?.projects).toHaveLength(1);
    }
  });

  /**
   * ~500 MB of zeros in ~500 KB: 50 concatenated gzip members of 10 MB each
   * (gunzip decodes multi-member streams). Expanding it would be obvious.
   */
  function gzipBomb(): Buffer {
    const member = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
    return Buffer.concat(Array.from({ length: 50 }, () => member));
  }

  it("a gzip bomb is refused with ResourceExhausted without being expanded (Connect unary, gRPC, gRPC-Web)", async () => {
    const bomb = gzipBomb();
    expect(bomb.length).toBeLessThan(MAX_REQUEST_BYTES);
    const before = process.memoryUsage().rss;

    const connect = await h1Request(ts.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { "Content-Type": "application/proto", "Content-Encoding": "gzip" },
      body: bomb,
    });
    expect(connect.status).toBe(429);
    const j = JSON.parse(connect.body.toString()) as { code: string; message: string };
    expect(j.code).toBe("resource_exhausted");
    expect(j.message).toMatch(/after decompression/);

    const grpc = await h2Request(ts.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { "content-type": "application/grpc", "grpc-encoding": "gzip", te: "trailers" },
      body: envelope(1, bomb),
    });
    expect(grpcStatus(grpc).status).toBe(String(Code.ResourceExhausted));

    const grpcWeb = await h1Request(ts.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "grpc-encoding": "gzip" },
      body: envelope(1, bomb),
    });
    expect(grpcWebStatus(grpcWeb).status).toBe(String(Code.ResourceExhausted));

    const grew = process.memoryUsage().rss - before;
    expect(grew).toBeLessThan(200 * 1024 * 1024);
  });

  it("HTTP-level Content-Encoding: gzip is decoded for Connect unary (JSON and proto)", async () => {
    const json = await fetch(ts.baseUrl + LIST_PROJECTS, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" },
      body: zlib.gzipSync(Buffer.from('{"limit": 3}')),
    });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ projects: { projects: [{ id: "flytesnacks" }] } });

    const proto = await h2Request(ts.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { "content-type": "application/proto", "content-encoding": "gzip" },
      body: zlib.gzipSync(toBinary(ListProjectsRequestSchema, create(ListProjectsRequestSchema, { limit: 3 }))),
    });
    expect(proto.status).toBe(200);
  });

  it("HTTP-level Content-Encoding: gzip is decoded for gRPC, gRPC-Web and Connect streaming", async () => {
    const msg = toBinary(ListProjectsRequestSchema, create(ListProjectsRequestSchema, { limit: 3 }));
    const grpc = await h2Request(ts.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { "content-type": "application/grpc", "content-encoding": "gzip", te: "trailers" },
      body: zlib.gzipSync(envelope(0, msg)),
    });
    expect(grpcStatus(grpc).status).toBe("0");
    expect(parseEnvelopes(grpc.body)).toHaveLength(1);

    const grpcWeb = await h1Request(ts.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "content-encoding": "gzip" },
      body: zlib.gzipSync(envelope(0, msg)),
    });
    expect(grpcWebStatus(grpcWeb).status).toBe("0");

    // WatchRuns stays open after its first message: read just that.
    const first = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request(ts.baseUrl + WATCH_RUNS, {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/connect+json", "content-encoding": "gzip" },
      });
      req.on("error", reject);
      req.on("response", (res) => {
        expect(res.statusCode).toBe(200);
        res.once("data", (chunk: Buffer) => {
          resolve(chunk);
          req.destroy();
        });
      });
      req.end(zlib.gzipSync(envelope(0, Buffer.from("{}"))));
    });
    const frames = parseEnvelopes(first);
    expect(frames[0].flags).toBe(0);
    expect(JSON.parse(frames[0].data.toString())).toEqual({});
  }, 10_000);

  it("HTTP-level gzip that is not gzip ⇒ InvalidArgument (gRPC)", async () => {
    const r = await h2Request(ts.baseUrl, LIST_PROJECTS, {
      method: "POST",
      headers: { "content-type": "application/grpc", "content-encoding": "gzip", te: "trailers" },
      body: Buffer.from("definitely not gzip"),
    });
    expect(grpcStatus(r).status).toBe(String(Code.InvalidArgument));
  });
});

// Unknown services and methods get the answer each protocol's clients expect: gRPC and gRPC-Web a
// trailers-only HTTP 200 with grpc-status 12 (UNIMPLEMENTED), Connect an HTTP 404 with an
// `unimplemented` error body. Over a real listener, with connect-node's clients and raw requests.
import { execFile, spawnSync } from "node:child_process";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { QueueService } from "#gen/flyteidl2/workflow/queue_service_pb.js";
import { h1Request, h2Request, startTestServer, type TestServer } from "./http-test-utils.js";

/** ProjectService as seen by a client built from a newer IDL: it has a method this server lacks. */
const getProject = ProjectService.method.getProject;
const newerProjectMethod = { ...getProject, name: "GetProjectV9", localName: "getProjectV9" };
const NewerProjectService = { ...ProjectService, methods: [newerProjectMethod], method: { getProjectV9: newerProjectMethod } } as unknown as {
  method: { getProjectV9: typeof getProject };
} & typeof ProjectService;

/**
 * A Python with grpcio (gRPC C-core, what the Flyte SDK uses), when one is installed (e.g. Debian's
 * python3-grpcio, which lands in /usr/bin/python3 even when another python3 comes first on PATH).
 */
const python = [process.env.RUNS_TEST_PYTHON, "python3", "/usr/bin/python3"].find(
  (p) => p !== undefined && spawnSync(p, ["-c", "import grpc"], { stdio: "ignore" }).status === 0,
);

/** Calls `path` with grpcio and prints "<status code name> <details>". */
function grpcioCall(target: string, path: string): Promise<string> {
  const script = [
    "import sys, grpc",
    "ch = grpc.insecure_channel(sys.argv[1])",
    "call = ch.unary_unary(sys.argv[2], request_serializer=lambda b: b, response_deserializer=lambda b: b)",
    "try:",
    "    call(b'', timeout=10)",
    "    print('OK')",
    "except grpc.RpcError as e:",
    "    print(e.code().name, e.details())",
  ].join("\n");
  return new Promise((resolve, reject) =>
    execFile(python!, ["-c", script, target, path], (error, stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(stdout.trim()))),
  );
}

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

describe("unknown services and methods", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => {
    await ts?.stop();
  });

  const transports = () => ({
    grpc: createGrpcTransport({ baseUrl: ts.baseUrl }),
    "grpc-web (HTTP/1.1)": createGrpcWebTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1" }),
    "grpc-web (HTTP/2)": createGrpcWebTransport({ baseUrl: ts.baseUrl, httpVersion: "2" }),
    "connect (HTTP/2)": createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "2" }),
    "connect JSON (HTTP/1.1)": createConnectTransport({ baseUrl: ts.baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
  });

  it.each(["grpc", "grpc-web (HTTP/1.1)", "grpc-web (HTTP/2)", "connect (HTTP/2)", "connect JSON (HTTP/1.1)"] as const)(
    "answers Unimplemented over %s, naming the service or method",
    async (name) => {
      const transport = transports()[name];
      const service = await errorOf(createClient(QueueService, transport).enqueueAction({}));
      expect(service.code).toBe(Code.Unimplemented);
      expect(service.rawMessage).toBe("unknown service flyteidl2.workflow.QueueService");
      const method = await errorOf(createClient(NewerProjectService, transport).getProjectV9({ id: "x" }));
      expect(method.code).toBe(Code.Unimplemented);
      expect(method.rawMessage).toBe("unknown method GetProjectV9 for service flyteidl2.project.ProjectService");
      // The connection is still fine for known methods.
      expect((await errorOf(createClient(ProjectService, transport).getProject({ id: "" }))).code).not.toBe(Code.Unimplemented);
    },
  );

  it.skipIf(python === undefined)("answers grpcio (gRPC C-core) UNIMPLEMENTED, not a transport error", async () => {
    const target = `127.0.0.1:${ts.port}`;
    expect(await grpcioCall(target, "/flyteidl2.workflow.QueueService/EnqueueAction")).toBe("UNIMPLEMENTED unknown service flyteidl2.workflow.QueueService");
    expect(await grpcioCall(target, "/flyteidl2.project.ProjectService/Nope")).toBe("UNIMPLEMENTED unknown method Nope for service flyteidl2.project.ProjectService");
  });

  it("sends gRPC a trailers-only HTTP/2 response: :status 200, grpc-status 12, no body, no separate trailers", async () => {
    const res = await h2Request(ts.baseUrl, "/flyteidl2.workflow.QueueService/EnqueueAction", {
      method: "POST",
      headers: { "content-type": "application/grpc", te: "trailers" },
      body: Buffer.from([0, 0, 0, 0, 0]),
    });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/grpc");
    expect(res.headers["grpc-status"]).toBe("12");
    expect(decodeURIComponent(String(res.headers["grpc-message"]))).toBe("unknown service flyteidl2.workflow.QueueService");
    expect(res.body.length).toBe(0);
    expect(res.trailers).toEqual({});
  });

  it("sends gRPC-Web over HTTP/1.1 a 200 with the status in the headers", async () => {
    const res = await h1Request(ts.baseUrl, "/flyteidl2.project.ProjectService/Nope", {
      method: "POST",
      headers: { "Content-Type": "application/grpc-web+proto" },
      body: Buffer.from([0, 0, 0, 0, 0]),
    });
    expect(res.status).toBe(200);
    expect(res.headers["grpc-status"]).toBe("12");
    expect(res.body.length).toBe(0);
  });

  it("sends Connect a 404 with an unimplemented error body; other unknown paths stay a bare 404", async () => {
    const res = await h1Request(ts.baseUrl, "/flyteidl2.project.ProjectService/Nope", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toEqual({ code: "unimplemented", message: "unknown method Nope for service flyteidl2.project.ProjectService" });
    const plain = await h1Request(ts.baseUrl, "/favicon.ico");
    expect([plain.status, plain.body.length]).toEqual([404, 0]);
  });
});

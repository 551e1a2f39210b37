import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import {
  ListProjectsResponseSchema,
  ProjectService,
} from "#gen/flyteidl2/project/project_service_pb.js";
import { Health } from "#gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection as ServerReflectionV1,
  ServerReflectionRequestSchema as RequestV1Schema,
} from "#gen/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflectionResponse as ResponseV1 } from "#gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflection as ServerReflectionV1Alpha,
  ServerReflectionRequestSchema as RequestV1AlphaSchema,
} from "#gen/grpc/reflection/v1alpha/reflection_pb.js";
import { registerHealth } from "../../src/server/grpc-health.js";
import { registerReflection } from "../../src/server/reflection.js";

const execFileAsync = promisify(execFile);

let server: http2.Http2Server;
let baseUrl: string;
const sessions = new Set<http2.ServerHttp2Session>();

function routes(router: ConnectRouter): void {
  router.service(ProjectService, {
    async listProjects() {
      return create(ListProjectsResponseSchema, {
        projects: { projects: [{ id: "p1", name: "Project One" }] },
      });
    },
  });
  registerHealth(router, { check: async () => true, services: [ProjectService.typeName] });
  registerReflection(router, [ProjectService, Health, ServerReflectionV1, ServerReflectionV1Alpha]);
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

type RequestV1Init = MessageInitShape<typeof RequestV1Schema>;
type RequestV1AlphaInit = MessageInitShape<typeof RequestV1AlphaSchema>;

async function* stream<T>(items: T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

/** Send the requests on one v1 stream, collect the responses. */
async function reflectV1(...reqs: RequestV1Init[]): Promise<ResponseV1[]> {
  const client = createClient(ServerReflectionV1, createGrpcTransport({ baseUrl }));
  const out: ResponseV1[] = [];
  for await (const res of client.serverReflectionInfo(stream(reqs.map((r) => create(RequestV1Schema, r))))) {
    out.push(res);
  }
  return out;
}

async function reflectV1Alpha(...reqs: RequestV1AlphaInit[]) {
  const client = createClient(ServerReflectionV1Alpha, createGrpcTransport({ baseUrl }));
  const out = [];
  for await (const res of client.serverReflectionInfo(
    stream(reqs.map((r) => create(RequestV1AlphaSchema, r))),
  )) {
    out.push(res);
  }
  return out;
}

function fileDescriptors(res: { messageResponse: { case: string | undefined; value?: unknown } }): FileDescriptorProto[] {
  expect(res.messageResponse.case).toBe("fileDescriptorResponse");
  const value = res.messageResponse.value as { fileDescriptorProto: Uint8Array[] };
  return value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** Order the files imports-first (fails when an import is missing) and build a registry. */
function registryOf(files: FileDescriptorProto[]) {
  const byName = new Map(files.map((f) => [f.name, f]));
  expect(byName.size).toBe(files.length); // each file once
  const ordered: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (f: FileDescriptorProto) => {
    if (done.has(f.name)) return;
    done.add(f.name);
    for (const dep of f.dependency) {
      const d = byName.get(dep);
      if (!d) throw new Error(`missing dependency ${dep} of ${f.name}`);
      visit(d);
    }
    ordered.push(f);
  };
  files.forEach(visit);
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

describe("grpc.reflection.v1", () => {
  it("lists the mounted services and echoes host and request", async () => {
    const [res] = await reflectV1({ host: "example:1", messageRequest: { case: "listServices", value: "" } });
    expect(res.validHost).toBe("example:1");
    expect(res.originalRequest?.messageRequest.case).toBe("listServices");
    expect(res.messageResponse.case).toBe("listServicesResponse");
    const names = res.messageResponse.case === "listServicesResponse"
      ? res.messageResponse.value.service.map((s) => s.name)
      : [];
    expect(names).toEqual(
      expect.arrayContaining([
        "flyteidl2.project.ProjectService",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.health.v1.Health",
      ]),
    );
    expect(names).toHaveLength(4);
  });

  it("answers file_containing_symbol with the file and all transitive dependencies", async () => {
    const [res] = await reflectV1({
      messageRequest: { case: "fileContainingSymbol", value: "flyteidl2.project.ProjectService" },
    });
    const files = fileDescriptors(res);
    expect(files[0].name).toBe("flyteidl2/project/project_service.proto");
    const names = files.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "flyteidl2/task/run.proto",
        "buf/validate/validate.proto",
        "google/protobuf/descriptor.proto",
        "google/protobuf/timestamp.proto",
      ]),
    );
    const reg = registryOf(files);
    const svc = reg.getService("flyteidl2.project.ProjectService");
    expect(svc?.methods.map((m) => m.name)).toEqual(
      expect.arrayContaining(["CreateProject", "GetProject", "ListProjects", "UpdateProject"]),
    );
    const msg = reg.getMessage("flyteidl2.project.CreateProjectRequest");
    expect(msg?.field.project.message?.typeName).toBe("flyteidl2.project.Project");
    // json_name is present in the served descriptors (protobuf-es restores it).
    const listReq = files[0].messageType.find((m) => m.name === "ListProjectsRequest");
    expect(listReq?.field.find((f) => f.name === "sort_by")?.jsonName).toBe("sortBy");
  });

  it("resolves methods, nested types, fields, enums and enum values", async () => {
    const symbols: [string, string][] = [
      ["flyteidl2.project.ProjectService.ListProjects", "flyteidl2/project/project_service.proto"],
      ["flyteidl2.project.CreateProjectRequest", "flyteidl2/project/project_service.proto"],
      ["flyteidl2.project.CreateProjectRequest.project", "flyteidl2/project/project_service.proto"],
      ["grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto"],
      ["grpc.health.v1.HealthCheckResponse.SERVING", "grpc/health/v1/health.proto"],
      ["grpc.reflection.v1.ServerReflectionRequest.message_request", "grpc/reflection/v1/reflection.proto"],
      ["google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
      ["buf.validate.field", "buf/validate/validate.proto"],
    ];
    const responses = await reflectV1(
      ...symbols.map(([sym]): RequestV1Init => ({ messageRequest: { case: "fileContainingSymbol", value: sym } })),
    );
    expect(responses).toHaveLength(symbols.length);
    responses.forEach((res, i) => {
      expect(res.originalRequest?.messageRequest.value).toBe(symbols[i][0]);
      expect(fileDescriptors(res)[0].name).toBe(symbols[i][1]);
    });
  });

  it("answers file_by_filename", async () => {
    const [ts, health] = await reflectV1(
      { messageRequest: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" } },
      { messageRequest: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } },
    );
    expect(fileDescriptors(ts).map((f) => f.name)).toEqual(["google/protobuf/timestamp.proto"]);
    const reg = registryOf(fileDescriptors(health));
    expect(reg.getService("grpc.health.v1.Health")).toBeDefined();
  });

  it("answers extension requests", async () => {
    const [numbers, containing, unknownExt, unknownType] = await reflectV1(
      { messageRequest: { case: "allExtensionNumbersOfType", value: "google.protobuf.FieldOptions" } },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "google.protobuf.FieldOptions", extensionNumber: 1159 },
        },
      },
      {
        messageRequest: {
          case: "fileContainingExtension",
          value: { containingType: "google.protobuf.FieldOptions", extensionNumber: 4242 },
        },
      },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "no.such.Type" } },
    );
    expect(numbers.messageResponse.case).toBe("allExtensionNumbersResponse");
    if (numbers.messageResponse.case === "allExtensionNumbersResponse") {
      expect(numbers.messageResponse.value.baseTypeName).toBe("google.protobuf.FieldOptions");
      expect(numbers.messageResponse.value.extensionNumber).toEqual(expect.arrayContaining([1159, 1160]));
    }
    expect(fileDescriptors(containing)[0].name).toBe("buf/validate/validate.proto");
    for (const res of [unknownExt, unknownType]) {
      expect(res.messageResponse.case).toBe("errorResponse");
      expect(res.messageResponse.case === "errorResponse" && res.messageResponse.value.errorCode).toBe(5);
    }
  });

  it("answers unknown names with NOT_FOUND and keeps the stream going", async () => {
    const [sym, file, list] = await reflectV1(
      { host: "h", messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } },
      { messageRequest: { case: "fileByFilename", value: "no/such/file.proto" } },
      { messageRequest: { case: "listServices", value: "*" } },
    );
    expect(sym.validHost).toBe("h");
    expect(sym.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "no.such.Symbol" });
    expect(sym.messageResponse.case).toBe("errorResponse");
    if (sym.messageResponse.case === "errorResponse") {
      expect(sym.messageResponse.value.errorCode).toBe(5);
      expect(sym.messageResponse.value.errorMessage).toContain("no.such.Symbol");
    }
    expect(file.messageResponse.case).toBe("errorResponse");
    expect(file.messageResponse.case === "errorResponse" && file.messageResponse.value.errorCode).toBe(5);
    expect(list.messageResponse.case).toBe("listServicesResponse");
  });
});

describe("grpc.reflection.v1alpha", () => {
  it("lists services and resolves ProjectService with complete dependencies", async () => {
    const [list, sym, missing] = await reflectV1Alpha(
      { host: "alpha", messageRequest: { case: "listServices", value: "" } },
      { messageRequest: { case: "fileContainingSymbol", value: "flyteidl2.project.ProjectService" } },
      { messageRequest: { case: "fileContainingSymbol", value: "flyteidl2.project.Nope" } },
    );
    expect(list.validHost).toBe("alpha");
    expect(list.$typeName).toBe("grpc.reflection.v1alpha.ServerReflectionResponse");
    expect(list.messageResponse.case === "listServicesResponse" && list.messageResponse.value.service.map((s) => s.name))
      .toEqual(expect.arrayContaining(["flyteidl2.project.ProjectService", "grpc.health.v1.Health"]));
    const reg = registryOf(fileDescriptors(sym));
    expect(reg.getService("flyteidl2.project.ProjectService")).toBeDefined();
    expect(reg.getMessage("flyteidl2.project.CreateProjectRequest")).toBeDefined();
    expect(missing.messageResponse.case === "errorResponse" && missing.messageResponse.value.errorCode).toBe(5);
    expect(missing.originalRequest?.$typeName).toBe("grpc.reflection.v1alpha.ServerReflectionRequest");
  });
});

const bufBin = join(process.cwd(), "node_modules/.bin/buf");

describe.skipIf(!existsSync(bufBin))("buf curl against the reflection service", () => {
  const curl = async (...args: string[]) => {
    const { stdout } = await execFileAsync(bufBin, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], {
      timeout: 30_000,
    });
    return stdout;
  };

  it("lists services", async () => {
    const out = await curl("--list-services", baseUrl);
    expect(out.split("\n").filter(Boolean).sort()).toEqual([
      "flyteidl2.project.ProjectService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it.each(["grpc-v1", "grpc-v1alpha"])("calls ListProjects without a schema (%s)", async (proto) => {
    const out = await curl(
      "--reflect-protocol",
      proto,
      "-d",
      '{"limit": 10, "sortBy": {"key": "name"}}',
      `${baseUrl}/flyteidl2.project.ProjectService/ListProjects`,
    );
    expect(JSON.parse(out)).toEqual({ projects: { projects: [{ id: "p1", name: "Project One" }] } });
  });
});

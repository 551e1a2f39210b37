import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetProjectRequestSchema,
  ProjectService,
  ProjectState,
} from "#gen/flyteidl2/project/project_service_pb.js";
import { IdentityService } from "#gen/flyteidl2/auth/identity_pb.js";
import { AuthMetadataService } from "#gen/flyteidl2/auth/auth_service_pb.js";
import { startTestApp, TRANSPORTS, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe.each(await testDialects())("ProjectService over a real server on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, (c) => {
      c.runs.seedProjects = ["flytesnacks", "seeded-two"];
      c.runs.domains = [{ id: "dev", name: "Dev" }];
    });
  });
  afterAll(async () => t?.close());

  it.each(TRANSPORTS)("lists the seeded projects with the configured domains over %s", async (name) => {
    const client = createClient(ProjectService, t.transports[name]);
    const res = await client.listProjects({});
    const ids = res.projects!.projects.map((p) => p.id).sort();
    expect(ids).toEqual(expect.arrayContaining(["flytesnacks", "seeded-two"]));
    const snacks = res.projects!.projects.find((p) => p.id === "flytesnacks")!;
    expect(snacks.name).toBe("flytesnacks");
    expect(snacks.domains.map((d) => [d.id, d.name])).toEqual([["dev", "Dev"]]);
  });

  it("creates, reads, updates and archives a project; domains in requests are ignored", async () => {
    const client = createClient(ProjectService, t.transports["connect-h2"]);
    await client.createProject({
      project: { id: "crud", name: "CRUD", description: "d", labels: { values: { team: "runs" } }, domains: [{ id: "x", name: "X" }] },
    });
    let got = (await client.getProject({ id: "crud" })).project!;
    expect(got.name).toBe("CRUD");
    expect(got.state).toBe(ProjectState.ACTIVE);
    expect(got.labels?.values).toEqual({ team: "runs" });
    expect(got.domains.map((d) => d.id)).toEqual(["dev"]);
    expect(got.org).toBe("");

    await client.updateProject({ project: { id: "crud", name: "Renamed", state: ProjectState.ARCHIVED } });
    got = (await client.getProject({ id: "crud" })).project!;
    expect(got.name).toBe("Renamed");
    expect(got.state).toBe(ProjectState.ARCHIVED);
    const listed = (await client.listProjects({})).projects!.projects.map((p) => p.id);
    expect(listed).not.toContain("crud");
    const archived = (await client.listProjects({ filters: "eq(state,1)" })).projects!.projects.map((p) => p.id);
    expect(archived).toEqual(["crud"]);
  });

  it("answers errors with the right codes and keeps stored data", async () => {
    const client = createClient(ProjectService, t.transports["grpc"]);
    await client.createProject({ project: { id: "keep", name: "Keep me" } });
    expect(await codeOf(client.createProject({ project: { id: "keep", name: "Other" } }))).toBe(Code.AlreadyExists);
    expect(await codeOf(client.createProject({}))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.createProject({ project: { id: "" } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.updateProject({ project: { id: "ghost" } }))).toBe(Code.NotFound);
    expect(await codeOf(client.getProject({ id: "" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.getProject({ id: "ghost" }))).toBe(Code.NotFound);
    expect(await codeOf(client.listProjects({ filters: "eq(secret,1)" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.listProjects({ filters: "nonsense" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.listProjects({ sortBy: { key: "nope" } }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.listProjects({ token: "not-a-token" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(client.createProject({ project: { id: "long", description: "x".repeat(301) } }))).toBe(Code.InvalidArgument);
    expect((await client.getProject({ id: "keep" })).project!.name).toBe("Keep me");
  });

  it("stores unicode names and SQL-looking text verbatim", async () => {
    const client = createClient(ProjectService, t.transports["connect-json-h1"]);
    const id = "ünïcødé-プロジェクト-🚀";
    const name = "Robert'); DROP TABLE projects;--";
    await client.createProject({ project: { id, name } });
    expect((await client.getProject({ id })).project!.name).toBe(name);
    const found = await client.listProjects({ filters: `eq(name,${name})` });
    expect(found.projects!.projects.map((p) => p.id)).toEqual([id]);
  });

  it("pages through many projects with tokens", async () => {
    const client = createClient(ProjectService, t.transports["connect-h2"]);
    for (let i = 0; i < 12; i++) await client.createProject({ project: { id: `page-${i}`, name: `page ${i}` } });
    const seen: string[] = [];
    let token = "";
    do {
      const res = await client.listProjects({ limit: 5, token, filters: "contains(identifier,page-)", sortBy: { key: "name", direction: 1 } });
      seen.push(...res.projects!.projects.map((p) => p.id));
      token = res.projects!.token;
    } while (token);
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
  });

  it("accepts a 10 MiB field under the default request limit", async () => {
    const client = createClient(ProjectService, t.transports["connect-h2"]);
    const big = "n".repeat(10 * 1024 * 1024);
    await client.createProject({ project: { id: "big-name", name: big } });
    expect((await client.getProject({ id: "big-name" })).project!.name.length).toBe(big.length);
  });

  it("answers malformed and truncated bodies with invalid_argument", async () => {
    const url = `${t.baseUrl}/flyteidl2.project.ProjectService/GetProject`;
    const json = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { code: string }).code).toBe("invalid_argument");
    const full = toBinary(GetProjectRequestSchema, create(GetProjectRequestSchema, { id: "flytesnacks" }));
    const truncated = full.slice(0, full.length - 3);
    const proto = await fetch(url, { method: "POST", headers: { "content-type": "application/proto" }, body: truncated });
    expect(proto.status).toBe(400);
    expect(JSON.parse(await proto.text()).code).toBe("invalid_argument");
  });

  it("serves IdentityService and AuthMetadataService like the reference", async () => {
    const identity = createClient(IdentityService, t.transports["connect-h2"]);
    // Without forwarded identity headers there is no caller (see test/api/identity.test.ts).
    expect(await codeOf(identity.userInfo({}))).toBe(Code.Unauthenticated);
    const auth = createClient(AuthMetadataService, t.transports["grpc-web"]);
    expect((await auth.getPublicClientConfig({})).dataplaneDomain).toBe("");
    expect(await codeOf(auth.getOAuth2Metadata({}))).toBe(Code.Unimplemented);
  });

  it("reports health and readiness", async () => {
    expect(await (await fetch(`${t.baseUrl}/healthz`)).text()).toBe("OK");
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
  });
});

describe("request size limit", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp("sqlite", (c) => {
      c.runs.server.maxRequestBytes = 1024 * 1024;
    });
  });
  afterAll(async () => t?.close());

  it.each(TRANSPORTS)("refuses a 10 MiB field with ResourceExhausted over %s and stores nothing", async (name) => {
    const client = createClient(ProjectService, t.transports[name]);
    const big = "n".repeat(10 * 1024 * 1024);
    expect(await codeOf(client.createProject({ project: { id: `too-big-${name}`, name: big } }))).toBe(Code.ResourceExhausted);
    expect(await codeOf(client.getProject({ id: `too-big-${name}` }))).toBe(Code.NotFound);
  });
});

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProjectSchema, ProjectState } from "#gen/flyteidl2/project/project_service_pb.js";
import { LabelsSchema } from "#gen/flyteidl2/task/run_pb.js";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from "../../src/repository/errors.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { ProjectRepo } from "../../src/repository/interfaces/project.js";
import { createProjectRepo } from "../../src/repository/kysely/project.js";
import { projectListRequest } from "../../src/repository/list/project-list.js";
import { projectToRow, rowToProject } from "../../src/repository/transformers/project.js";
import { create as createMsg } from "@bufbuild/protobuf";
import { ListProjectsRequestSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { systemClock } from "../../src/util/clock.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";

const clock = systemClock();
const row = (id: string, extra: Omit<MessageInitShape<typeof ProjectSchema>, "id" | "$typeName"> = {}) =>
  projectToRow(create(ProjectSchema, { id, name: id, ...extra }), clock.now());
const listReq = (init: Parameters<typeof createMsg<typeof ListProjectsRequestSchema>>[1] = {}) =>
  projectListRequest(createMsg(ListProjectsRequestSchema, init));

describe.each(await testDialects())("project repository on %s", (kind) => {
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let repo: ProjectRepo;

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    repo = createProjectRepo(handle, clock);
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    await handle?.db.deleteFrom("projects").execute();
  });

  it("creates and reads back a project with labels and state", async () => {
    const labels = create(LabelsSchema, { values: { team: "runs", "ünï": "çødé" } });
    await repo.create(row("p1", { name: "Project One", description: "first", labels, state: ProjectState.SYSTEM_GENERATED }));
    const stored = await repo.get("p1");
    const project = rowToProject(stored, []);
    expect(project.name).toBe("Project One");
    expect(project.description).toBe("first");
    expect(project.state).toBe(ProjectState.SYSTEM_GENERATED);
    expect(project.labels?.values).toEqual({ team: "runs", "ünï": "çødé" });
    expect(stored.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(stored.created_at).toBe(stored.updated_at);
  });

  it("refuses a duplicate identifier without leaking the database error, keeping the first row", async () => {
    await repo.create(row("dup", { name: "first" }));
    const error = await repo.create(row("dup", { name: "second" })).catch((e) => e);
    expect(error).toBeInstanceOf(AlreadyExistsError);
    expect(error.message).toBe("project already exists: dup");
    expect(error.message).not.toMatch(/UNIQUE|duplicate key/i);
    expect((await repo.get("dup")).name).toBe("first");
  });

  it("updates every field and advances updated_at; unknown ids are NotFound", async () => {
    await repo.create(row("u1", { name: "old", description: "d" }));
    const before = await repo.get("u1");
    await repo.update(row("u1", { name: "new", state: ProjectState.ARCHIVED }));
    const after = await repo.get("u1");
    expect(after.name).toBe("new");
    expect(after.description).toBe("");
    expect(after.state).toBe(ProjectState.ARCHIVED);
    expect(after.created_at).toBe(before.created_at);
    expect(after.updated_at > before.updated_at).toBe(true);
    await expect(repo.update(row("missing"))).rejects.toBeInstanceOf(NotFoundError);
    await expect(repo.get("missing")).rejects.toThrow("project not found: missing");
    expect(await repo.exists("u1")).toBe(true);
    expect(await repo.exists("missing")).toBe(false);
  });

  it("hides archived projects unless a filter is given", async () => {
    await repo.create(row("active"));
    await repo.create(row("archived", { state: ProjectState.ARCHIVED }));
    const ids = async (init: Parameters<typeof listReq>[0]) => (await repo.list(listReq(init))).rows.map((r) => r.identifier).sort();
    expect(await ids({})).toEqual(["active"]);
    expect(await ids({ filters: "eq(state,1)" })).toEqual(["archived"]);
    expect(await ids({ filters: "value_in(state,0;1;2)" })).toEqual(["active", "archived"]);
  });

  it("lists everything with limit 0 and pages with opaque tokens, each row exactly once", async () => {
    for (let i = 0; i < 23; i++) await repo.create(row(`p${String(i).padStart(2, "0")}`, { name: i % 2 ? "odd" : "even" }));
    const all = await repo.list(listReq({ limit: 0 }));
    expect(all.rows).toHaveLength(23);
    expect(all.nextToken).toBe("");

    for (const sortBy of [undefined, { key: "name", direction: 1 }, { key: "created_at", direction: 0 }]) {
      const seen: string[] = [];
      let token = "";
      do {
        const page = await repo.list(listReq({ limit: 5, token, sortBy }));
        expect(page.rows.length).toBeLessThanOrEqual(5);
        seen.push(...page.rows.map((r) => r.identifier));
        token = page.nextToken;
      } while (token);
      expect(seen).toHaveLength(23);
      expect(new Set(seen).size).toBe(23);
    }
  });

  it("treats SQL-looking and LIKE-special filter values as plain text", async () => {
    await repo.create(row("x", { name: "50%_off" }));
    await repo.create(row("y", { name: "500 off" }));
    const names = async (filters: string) => (await repo.list(listReq({ filters }))).rows.map((r) => r.name);
    expect(await names("contains(name,50%)")).toEqual(["50%_off"]);
    expect(await names("eq(name,x' OR '1'='1)")).toEqual([]);
    expect(await repo.exists("x")).toBe(true);
  });

  it("rejects unknown filter and sort columns and foreign tokens", async () => {
    expect(() => listReq({ filters: "eq(password,1)" })).toThrow(InvalidArgumentError);
    expect(() => listReq({ sortBy: { key: "nope" } })).toThrow(/invalid sort field/);
    await repo.create(row("a"));
    await repo.create(row("b"));
    const first = await repo.list(listReq({ limit: 1 }));
    expect(first.nextToken).not.toBe("");
    await expect(repo.list(listReq({ limit: 1, token: first.nextToken, filters: "eq(state,0)" }))).rejects.toThrow(/invalid token/);
    await expect(repo.list(listReq({ limit: 1, token: "12" }))).rejects.toThrow(InvalidArgumentError);
  });
});

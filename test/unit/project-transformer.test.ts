import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DomainSchema, ProjectSchema, ProjectState } from "#gen/flyteidl2/project/project_service_pb.js";
import { projectToRow, rowToProject } from "../../src/repository/transformers/project.js";

const NOW = "2026-01-02T03:04:05.123456Z";

describe("project transformers", () => {
  it("round-trip id, name, description, state and labels; domains come from config, not the input", () => {
    const input = create(ProjectSchema, {
      id: "p",
      name: "Name",
      description: "desc",
      state: ProjectState.ARCHIVED,
      labels: { values: { a: "1", b: "2" } },
      domains: [{ id: "ignored", name: "Ignored" }],
      org: "some-org",
    });
    const row = projectToRow(input, NOW);
    expect(row).toMatchObject({ identifier: "p", name: "Name", description: "desc", state: 1, created_at: NOW, updated_at: NOW });
    const configured = [create(DomainSchema, { id: "development", name: "Development" })];
    const back = rowToProject({ ...row, labels: row.labels ?? null, state: row.state ?? null }, configured);
    expect(back.id).toBe("p");
    expect(back.state).toBe(ProjectState.ARCHIVED);
    expect(back.labels?.values).toEqual({ a: "1", b: "2" });
    expect(back.domains.map((d) => d.id)).toEqual(["development"]);
    expect(back.org).toBe("");
  });

  it("stores no labels as NULL and reads NULL state as ACTIVE", () => {
    const row = projectToRow(create(ProjectSchema, { id: "p" }), NOW);
    expect(row.labels).toBeNull();
    const back = rowToProject({ ...row, labels: null, state: null }, []);
    expect(back.state).toBe(ProjectState.ACTIVE);
    expect(back.labels).toBeUndefined();
  });

  it("fails on undecodable labels", () => {
    const row = projectToRow(create(ProjectSchema, { id: "bad" }), NOW);
    expect(() => rowToProject({ ...row, labels: new Uint8Array([0x0a, 0xff, 0xff]), state: 0 }, [])).toThrow(/labels do not decode/);
  });
});

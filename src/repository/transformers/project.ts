import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ProjectSchema, type Domain, type Project } from "#gen/flyteidl2/project/project_service_pb.js";
import { LabelsSchema } from "#gen/flyteidl2/task/run_pb.js";
import type { NewProjectRow, ProjectRow } from "../schema/index.js";
import type { Timestamp } from "../timestamps.js";

/** Project → row. Domains and org are not stored (domains come from config). */
export function projectToRow(project: Project, now: Timestamp): NewProjectRow {
  return {
    identifier: project.id,
    name: project.name,
    description: project.description,
    labels: project.labels ? toBinary(LabelsSchema, project.labels) : null,
    state: project.state,
    created_at: now,
    updated_at: now,
  };
}

/** Row → Project with the configured domains; throws when the stored labels do not decode. */
export function rowToProject(row: ProjectRow, domains: Domain[]): Project {
  let labels;
  if (row.labels && row.labels.length > 0) {
    try {
      labels = fromBinary(LabelsSchema, row.labels);
    } catch (error) {
      throw new Error(`project ${row.identifier}: stored labels do not decode: ${(error as Error).message}`, { cause: error });
    }
  }
  return create(ProjectSchema, {
    id: row.identifier,
    name: row.name,
    description: row.description,
    labels,
    state: row.state ?? 0,
    domains,
    org: "",
  });
}

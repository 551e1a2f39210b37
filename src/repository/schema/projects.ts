import type { Insertable, Selectable, Updateable } from "kysely";
import type { Bytes, TimestampColumn } from "./common.js";

export interface ProjectsTable {
  identifier: string;
  name: string;
  description: string;
  /** Binary flyteidl2.task.Labels, NULL when the project has none. */
  labels: Bytes | null;
  /** flyteidl2.project.ProjectState number. */
  state: number | null;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

export type ProjectRow = Selectable<ProjectsTable>;
export type NewProjectRow = Insertable<ProjectsTable>;
export type ProjectRowUpdate = Updateable<ProjectsTable>;

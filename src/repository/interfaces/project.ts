import type { NewProjectRow, ProjectRow } from "../schema/index.js";
import type { Page, PageRequest } from "./common.js";

export interface ProjectRepo {
  /** Throws AlreadyExistsError ("project already exists: <id>") for a taken identifier. */
  create(row: NewProjectRow): Promise<void>;
  /** Replaces name, description, labels and state; NotFoundError for an unknown identifier. */
  update(row: NewProjectRow): Promise<void>;
  /** NotFoundError ("project not found: <id>") when absent. */
  get(identifier: string): Promise<ProjectRow>;
  /** True when a project with this identifier exists. */
  exists(identifier: string): Promise<boolean>;
  list(request: PageRequest): Promise<Page<ProjectRow>>;
}

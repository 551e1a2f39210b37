import type { DatabaseHandle } from "./dialect/index.js";
import type { ProjectRepo } from "./interfaces/project.js";
import { createProjectRepo } from "./kysely/project.js";
import type { Clock } from "../util/clock.js";

/** Every repository, built over one database handle. */
export interface Repository {
  projects: ProjectRepo;
}

export function createRepository(handle: DatabaseHandle, clock: Clock): Repository {
  return {
    projects: createProjectRepo(handle, clock),
  };
}

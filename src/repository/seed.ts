import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { AlreadyExistsError } from "./errors.js";
import type { ProjectRepo } from "./interfaces/project.js";
import { projectToRow } from "./transformers/project.js";
import type { Clock } from "../util/clock.js";

/** Creates each configured project that does not exist yet (name = id, ACTIVE). */
export async function seedProjects(projects: ProjectRepo, ids: string[], clock: Clock, logger: Logger): Promise<void> {
  for (const id of ids) {
    if (!id) continue;
    try {
      await projects.create(projectToRow(create(ProjectSchema, { id, name: id }), clock.now()));
      logger.info({ project: id }, "seeded project");
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
}

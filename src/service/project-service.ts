import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  CreateProjectResponseSchema,
  GetProjectResponseSchema,
  ListProjectsResponseSchema,
  ProjectService,
  ProjectsSchema,
  UpdateProjectResponseSchema,
  type Domain,
  type Project,
} from "#gen/flyteidl2/project/project_service_pb.js";
import type { ProjectRepo } from "../repository/interfaces/project.js";
import { projectListRequest } from "../repository/list/project-list.js";
import { projectToRow, rowToProject } from "../repository/transformers/project.js";
import type { Clock } from "../util/clock.js";
import { requirePathSegments } from "./storage-path-checks.js";

export interface ProjectServiceDeps {
  projects: ProjectRepo;
  /** runs.domains: returned with every project; domains sent by clients are not stored. */
  domains: Domain[];
  clock: Clock;
}

/** The reference's column is VARCHAR(300); longer text is refused up front. */
const MAX_DESCRIPTION = 300;

function checkProject(project: Project | undefined): Project {
  if (!project || project.id === "") {
    throw new ConnectError("project.id is required", Code.InvalidArgument);
  }
  if ([...project.description].length > MAX_DESCRIPTION) {
    throw new ConnectError(
      `project.description is ${[...project.description].length} characters; at most ${MAX_DESCRIPTION} are allowed`,
      Code.InvalidArgument,
    );
  }
  return project;
}

export function createProjectService(deps: ProjectServiceDeps): ServiceImpl<typeof ProjectService> {
  const { projects, domains, clock } = deps;
  return {
    async createProject(req) {
      const project = checkProject(req.project);
      // Runs of the project are stored under <storagePrefix>/<project id>/.
      requirePathSegments({ "project.id": project.id });
      await projects.create(projectToRow(project, clock.now()));
      return create(CreateProjectResponseSchema, {});
    },

    async updateProject(req) {
      const project = checkProject(req.project);
      await projects.update(projectToRow(project, clock.now()));
      return create(UpdateProjectResponseSchema, {});
    },

    async getProject(req) {
      if (req.id === "") throw new ConnectError("id is required", Code.InvalidArgument);
      const row = await projects.get(req.id);
      return create(GetProjectResponseSchema, { project: rowToProject(row, domains) });
    },

    async listProjects(req) {
      const page = await projects.list(projectListRequest(req));
      return create(ListProjectsResponseSchema, {
        projects: create(ProjectsSchema, {
          projects: page.rows.map((row) => rowToProject(row, domains)),
          token: page.nextToken,
        }),
      });
    },
  };
}

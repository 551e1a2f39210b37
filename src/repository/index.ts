import type { DatabaseHandle } from "./dialect/index.js";
import type { ActionRepo } from "./interfaces/action.js";
import type { ProjectRepo } from "./interfaces/project.js";
import type { SettingsRepo } from "./interfaces/settings.js";
import type { TaskRepo, TaskSpecRepo } from "./interfaces/task.js";
import type { TriggerRepo } from "./interfaces/trigger.js";
import { createActionRepo } from "./kysely/action.js";
import { createProjectRepo } from "./kysely/project.js";
import { createSettingsRepo } from "./kysely/settings.js";
import { createTaskRepo } from "./kysely/task.js";
import { createTaskSpecRepo } from "./kysely/task-spec.js";
import { createTriggerRepo } from "./kysely/trigger.js";
import type { Clock } from "../util/clock.js";
import { createInProcessBus, type EventBus } from "../events/bus.js";

/** Every repository, built over one database handle. */
export interface Repository {
  projects: ProjectRepo;
  tasks: TaskRepo;
  taskSpecs: TaskSpecRepo;
  triggers: TriggerRepo;
  actions: ActionRepo;
  settings: SettingsRepo;
}

/**
 * `bus` receives the change events of action writes; pass the app's bus (the
 * default, a private bus nobody listens to, only suits tests without watchers).
 */
export function createRepository(handle: DatabaseHandle, clock: Clock, bus: EventBus = createInProcessBus()): Repository {
  return {
    projects: createProjectRepo(handle, clock),
    tasks: createTaskRepo(handle, clock),
    taskSpecs: createTaskSpecRepo(handle, clock),
    triggers: createTriggerRepo(handle, clock),
    actions: createActionRepo(handle, clock, bus),
    settings: createSettingsRepo(handle, clock),
  };
}

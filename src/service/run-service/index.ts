/**
 * flyteidl2.workflow.RunService: the unary RPCs, one module per family,
 * spread together here, plus the six Watch* streams (./watch.ts) when an
 * event bus is given.
 */
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { ActionIdentifier, RunIdentifier } from "#gen/flyteidl2/common/identifier_pb.js";
import type { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { ActionKey, ActionRepo, RunKey } from "../../repository/interfaces/action.js";
import type { ProjectRepo } from "../../repository/interfaces/project.js";
import type { TaskRepo, TaskSpecRepo } from "../../repository/interfaces/task.js";
import type { TriggerRepo } from "../../repository/interfaces/trigger.js";
import type { BlobStore } from "../../storage/index.js";
import type { Clock } from "../../util/clock.js";
import type { AbortReconciler } from "../abort-reconciler.js";
import type { RootEnqueuer } from "../enqueuer.js";
import type { EventBus } from "../../events/bus.js";
import { abortHandlers } from "./abort.js";
import { createRunHandlers } from "./create-run.js";
import { getDataHandlers } from "./get-data.js";
import { getDetailsHandlers } from "./get-details.js";
import { listHandlers } from "./list.js";
import type { RandomIndex } from "./run-names.js";
import { createWatchHandlers, type WatchOptions } from "./watch.js";

export interface RunServiceDeps {
  actions: ActionRepo;
  tasks: TaskRepo;
  taskSpecs: TaskSpecRepo;
  triggers: TriggerRepo;
  projects: ProjectRepo;
  blobStore: BlobStore;
  /** Hands new runs to the executor (the enqueue retrier in the app; directEnqueuer(client) in tests). */
  enqueuer: RootEnqueuer;
  /** Receives every requested abort; optional so handlers can be tested alone. */
  abortReconciler?: Pick<AbortReconciler, "push">;
  /** runs.storagePrefix: where run inputs are written and the default raw-data prefix. */
  storagePrefix: string;
  clock: Clock;
  logger: Logger;
  /** Randomness of generated run names (tests pass a seeded source). */
  randomIndex?: RandomIndex;
  /** Change notifications; without it the Watch* streams are not served (Unimplemented). */
  bus?: EventBus;
  /** Tunables of the Watch* streams (defaults: DEFAULT_WATCH_OPTIONS). */
  watch?: Partial<WatchOptions>;
}

export type RunServiceHandlers = Partial<ServiceImpl<typeof RunService>>;

export function createRunService(deps: RunServiceDeps): RunServiceHandlers {
  return {
    ...createRunHandlers(deps),
    ...getDetailsHandlers(deps),
    ...getDataHandlers(deps),
    ...listHandlers(deps),
    ...abortHandlers(deps),
    ...(deps.bus ? createWatchHandlers({ ...deps, bus: deps.bus }) : {}),
  };
}

// --- request identifiers ------------------------------------------------------
// The validation interceptor enforces the IDL's rules first; these keep the
// handlers safe for in-process callers and name the missing field.

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

export function runKeyOf(id: RunIdentifier | undefined, path = "run_id"): RunKey {
  if (!id) throw invalid(`${path} is required`);
  for (const [name, value] of [["project", id.project], ["domain", id.domain], ["name", id.name]] as const) {
    if (value === "") throw invalid(`${path}.${name} is required`);
  }
  return { project: id.project, domain: id.domain, run: id.name };
}

export function actionKeyOf(id: ActionIdentifier | undefined, path = "action_id"): ActionKey {
  if (!id) throw invalid(`${path} is required`);
  const run = runKeyOf(id.run, `${path}.run`);
  if (id.name === "") throw invalid(`${path}.name is required`);
  return { ...run, action: id.name };
}

export function describeKey(key: RunKey | ActionKey): string {
  return "action" in key ? `${key.project}/${key.domain}/${key.run}/${key.action}` : `${key.project}/${key.domain}/${key.run}`;
}

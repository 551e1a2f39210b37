/** Shared set-up of the RunService / InternalRunService handler tests: a migrated database, fakes for the rest. */
import { create, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { LiteralSchema, type Literal } from "#gen/flyteidl2/core/literals_pb.js";
import { ProjectSchema } from "#gen/flyteidl2/project/project_service_pb.js";
import { TaskService } from "#gen/flyteidl2/task/task_service_pb.js";
import type { TaskSpecSchema } from "#gen/flyteidl2/task/task_definition_pb.js";
import { InternalRunService } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { createRepository, type Repository } from "../../src/repository/index.js";
import { projectToRow } from "../../src/repository/transformers/project.js";
import { toConnectError } from "../../src/rpc/connect-errors.js";
import type { AbortTarget } from "../../src/service/abort-reconciler.js";
import type { AbortRequestInit, ActionsClient, EnqueueRequestInit } from "../../src/service/actions-client.js";
import { createInternalRunService } from "../../src/service/internal-run-service/index.js";
import { createRunService } from "../../src/service/run-service/index.js";
import { seededRandomIndex } from "../../src/service/run-service/run-names.js";
import { createTaskService } from "../../src/service/task-service.js";
import { createMemoryBlobStore, type BlobStore, type MemoryBlobStore } from "../../src/storage/index.js";
import { openMigratedDatabase, quietLogger, type DialectName } from "../support/databases.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { directEnqueuer } from "../../src/service/enqueuer.js";

export const ORG = "testorg";
export const PROJECT = "proj";
export const DOMAIN = "dev";
export const PREFIX = "s3://flyte-data";

/** An ActionsService stand-in recording what it is sent; `fail` makes the next calls reject. */
export interface FakeActionsClient extends ActionsClient {
  enqueued: EnqueueRequestInit[];
  aborted: AbortRequestInit[];
  failEnqueue?: ConnectError;
}

export function fakeActionsClient(): FakeActionsClient {
  const fake: FakeActionsClient = {
    enqueued: [],
    aborted: [],
    async enqueue(req) {
      fake.enqueued.push(req);
      if (fake.failEnqueue) throw fake.failEnqueue;
    },
    async abort(req) {
      fake.aborted.push(req);
    },
  };
  return fake;
}

/** A blob store whose writes can be made to fail. */
export function flakyBlobStore(inner: MemoryBlobStore): MemoryBlobStore & { failWrites: boolean } {
  const store = {
    ...inner,
    failWrites: false,
    async write(uri: string, data: Uint8Array) {
      if (store.failWrites) throw new Error("bucket unavailable");
      return inner.write(uri, data);
    },
    async writeNew(uri: string, data: Uint8Array) {
      if (store.failWrites) throw new Error("bucket unavailable");
      return inner.writeNew!(uri, data);
    },
  };
  return store;
}

type Methods = Record<string, { input: DescMessage; output: DescMessage; methodKind: string }>;

/** The unary methods of a service, called directly with plain request objects (no server, no interceptors). */
export type InitHandlers<S extends { method: Methods }> = {
  [K in keyof S["method"]]: (
    req: MessageInitShape<S["method"][K]["input"]>,
  ) => Promise<MessageShape<S["method"][K]["output"]>>;
};

export function initHandlers<S extends DescService & { method: Methods }>(service: S, impl: object): InitHandlers<S> {
  const out: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (method.methodKind !== "unary" || typeof fn !== "function") continue;
    // A context with empty ContextValues: no caller identity, as for a request without identity headers.
    out[method.localName] = (req: object) => Promise.resolve(fn(create(method.input, req as never), { values: createContextValues() }));
  }
  return out as InitHandlers<S>;
}

export interface RunServiceFixture {
  repo: Repository;
  clock: ManualClock;
  blobs: ReturnType<typeof flakyBlobStore>;
  client: FakeActionsClient;
  pushed: { target: AbortTarget; reason: string }[];
  runs: InitHandlers<typeof RunService>;
  internal: InitHandlers<typeof InternalRunService>;
  internalImpl: ReturnType<typeof createInternalRunService>;
  tasks: InitHandlers<typeof TaskService>;
  drop(): Promise<void>;
}

export async function runServiceFixture(kind: DialectName, opts: { blobStore?: BlobStore } = {}): Promise<RunServiceFixture> {
  const db = await openMigratedDatabase(kind);
  const clock = manualClock("2026-03-24T09:00:00.000000Z");
  const repo = createRepository(db.handle, clock);
  await repo.projects.create(projectToRow(create(ProjectSchema, { id: PROJECT, name: PROJECT }), clock.now()));
  const blobs = flakyBlobStore(createMemoryBlobStore());
  const client = fakeActionsClient();
  const pushed: { target: AbortTarget; reason: string }[] = [];
  const runImpl = createRunService({
    actions: repo.actions,
    tasks: repo.tasks,
    taskSpecs: repo.taskSpecs,
    triggers: repo.triggers,
    projects: repo.projects,
    blobStore: opts.blobStore ?? blobs,
    enqueuer: directEnqueuer(client),
    abortReconciler: {
      push(target, reason) {
        pushed.push({ target, reason });
        return true;
      },
    },
    storagePrefix: PREFIX,
    clock,
    logger: quietLogger,
    randomIndex: seededRandomIndex(42),
  });
  const internalImpl = createInternalRunService({
    actions: repo.actions,
    taskSpecs: repo.taskSpecs,
    clock,
    logger: quietLogger,
    isConnectionError: db.handle.isConnectionError,
  });
  return {
    repo,
    clock,
    blobs,
    client,
    pushed,
    runs: initHandlers(RunService, runImpl),
    internal: initHandlers(InternalRunService, internalImpl),
    internalImpl,
    tasks: initHandlers(TaskService, createTaskService({ tasks: repo.tasks, projects: repo.projects })),
    drop: () => db.drop(),
  };
}

export const runId = (name: string, project = PROJECT) => ({ org: ORG, project, domain: DOMAIN, name });
export const actionId = (run: string, name: string) => ({ run: runId(run), name });

export function pythonSpec(
  name = "my_env.my_task",
  extra: { discoverable?: boolean; defaults?: [string, Literal][]; shortName?: string } = {},
): MessageInitShape<typeof TaskSpecSchema> {
  return {
    taskTemplate: {
      id: { org: ORG, project: PROJECT, domain: DOMAIN, name, version: "v1" },
      type: "python",
      metadata: { discoverable: extra.discoverable ?? false, discoveryVersion: "1" },
      interface: {},
    },
    shortName: extra.shortName ?? "my_task",
    environment: { name: "my_env" },
    defaultInputs: (extra.defaults ?? []).map(([n, value]) => ({ name: n, parameter: { behavior: { case: "default" as const, value } } })),
  };
}

export const stringLiteral = (s: string): Literal =>
  create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: s } } } } } });

/** The string inside a string literal (undefined for anything else). */
export function stringOf(l: Literal | undefined): string | undefined {
  if (l?.value.case !== "scalar" || l.value.value.value.case !== "primitive") return undefined;
  const p = l.value.value.value.value.value;
  return p.case === "stringValue" ? p.value : undefined;
}

/** The error as a client would see it (domain errors mapped the way the error interceptor maps them). */
export async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return toConnectError(error, { logger: quietLogger, isConnectionError: () => false }, "test");
  }
  throw new Error("expected the call to fail");
}

export async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch {
    return (await errorOf(p)).code;
  }
}

/**
 * CreateRun: resolves the run id and the task, writes the inputs, stores the
 * task spec, inserts the root action "a0" as QUEUED and hands it to the
 * executor (ActionsService.Enqueue).
 */
import { clone, create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { EnrichedIdentitySchema } from "#gen/flyteidl2/common/identity_pb.js";
import { InputsSchema, type Inputs } from "#gen/flyteidl2/task/common_pb.js";
import { RawDataStorageSchema, RunSpecSchema, type RunSpec } from "#gen/flyteidl2/task/run_pb.js";
import { TaskIdentifierSchema, type TaskIdentifier, type TaskSpec } from "#gen/flyteidl2/task/task_definition_pb.js";
import {
  ActionSpecSchema,
  ActionType,
  RunSourceSchema,
  type RunSource,
} from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { RunInfoSchema } from "#gen/flyteidl2/workflow/run_info_pb.js";
import { CreateRunResponseSchema, type CreateRunRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { NotFoundError } from "../../repository/errors.js";
import { toEpochMicros } from "../../repository/timestamps.js";
import type { RunKey } from "../../repository/interfaces/action.js";
import type { ActionRow, NewActionRow } from "../../repository/schema/index.js";
import type { HandlerContext } from "@connectrpc/connect";
import { runRowToRun } from "../../repository/transformers/action.js";
import { decodeTaskSpec, taskKeyOf } from "../../repository/transformers/task.js";
import { TaskSpecStorer } from "../../repository/transformers/task-spec.js";
import { triggerKeyOf } from "../../repository/transformers/trigger.js";
import { requireProject, requireTaskId, requireTriggerName } from "../request-checks.js";
import { computeFilteredInputsHash, generateCacheKey, isDiscoverable } from "./cache-key.js";
import { describeKey, type RunServiceDeps, type RunServiceHandlers } from "./index.js";
import { requirePathSegments } from "../storage-path-checks.js";
import { fillDefaultInputs, inputPrefix, inputsUri, runOutputBase, taskIdFromTaskSpec } from "./inputs.js";
import { generateRunName, runNameProblem } from "./run-names.js";
import { triggerRunDefaults, type TriggerRunDefaults } from "./trigger-run.js";
import { callerIdentity } from "../identity/caller-identity.js";
import { identitySubject } from "../identity/forwarded-identity.js";
import { newActionRow } from "../../repository/transformers/action-row.js";

/** Every run's root action is called this. */
export const ROOT_ACTION_NAME = "a0";

interface RunIdentity extends RunKey {
  /** Passed on to the executor; never stored. */
  org: string;
}

interface TaskSource {
  id: TaskIdentifier | undefined;
  spec: TaskSpec;
  trigger?: { name: string; taskName: string; revision: number; defaults: TriggerRunDefaults };
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

function nullIfEmpty(value: string | undefined): string | null {
  return value ? value : null;
}

function runSourceName(source: RunSource): string {
  return RunSourceSchema.values.find((v) => v.number === source)?.name ?? "RUN_SOURCE_UNSPECIFIED";
}

export function createRunHandlers(deps: RunServiceDeps): Pick<RunServiceHandlers, "createRun"> {
  const { actions, tasks, taskSpecs, triggers, projects, blobStore, enqueuer, clock } = deps;
  const log = deps.logger.child({ rpc: "CreateRun" });
  const specStorer = new TaskSpecStorer();

  function resolveIdentity(req: CreateRunRequest): RunIdentity {
    const id = req.id;
    switch (id.case) {
      case "runId": {
        const { org, project, domain, name } = id.value;
        if (project === "" || domain === "" || name === "") throw invalid("run_id.project, run_id.domain and run_id.name are required");
        requirePathSegments({ "run_id.project": project, "run_id.domain": domain, "run_id.name": name });
        // Only names chosen now: runs stored under other names stay readable.
        const problem = runNameProblem(name);
        if (problem) throw invalid(problem);
        return { org, project, domain, run: name };
      }
      case "projectId": {
        const { organization, name, domain } = id.value;
        if (name === "" || domain === "") throw invalid("project_id.name and project_id.domain are required");
        requirePathSegments({ "project_id.name": name, "project_id.domain": domain });
        return { org: organization, project: name, domain, run: generateRunName(deps.randomIndex) };
      }
      default:
        throw invalid("run_id or project_id is required");
    }
  }

  async function loadTaskSpec(id: TaskIdentifier): Promise<TaskSpec> {
    const row = await tasks.get(taskKeyOf(id));
    return decodeTaskSpec(row.task_spec, `task ${id.project}/${id.domain}/${id.name}@${id.version}`);
  }

  async function resolveTask(req: CreateRunRequest): Promise<TaskSource> {
    const task = req.task;
    switch (task.case) {
      case "taskId": {
        const id = requireTaskId(task.value);
        return { id, spec: await loadTaskSpec(id) };
      }
      case "taskSpec":
        return { id: taskIdFromTaskSpec(task.value), spec: task.value };
      case "triggerName": {
        const name = requireTriggerName(task.value, "trigger_name");
        let trigger;
        try {
          trigger = await triggers.get(triggerKeyOf(name));
        } catch (error) {
          if (error instanceof NotFoundError) {
            throw new NotFoundError(`trigger ${JSON.stringify(name.name)} not found: ${error.message}`, { cause: error });
          }
          throw error;
        }
        let defaults: TriggerRunDefaults;
        try {
          // A run by trigger name is a fire now: the trigger's run spec and inputs, the kickoff input set to now.
          defaults = triggerRunDefaults(trigger, Number(toEpochMicros(clock.now()) / 1000n));
        } catch (error) {
          throw new ConnectError(`trigger ${JSON.stringify(name.name)} has an unreadable spec: ${(error as Error).message}`, Code.Internal, undefined, undefined, error);
        }
        const id = create(TaskIdentifierSchema, {
          project: trigger.project,
          domain: trigger.domain,
          name: trigger.task_name,
          version: trigger.task_version,
        });
        return {
          id,
          spec: await loadTaskSpec(id),
          trigger: { name: trigger.name, taskName: trigger.task_name, revision: trigger.latest_revision, defaults },
        };
      }
      default:
        throw invalid("task_id, task_spec or trigger_name is required");
    }
  }

  /** The run spec with the raw-data prefix defaulted to runs.storagePrefix. */
  function effectiveRunSpec(spec: RunSpec | undefined): RunSpec {
    const out = spec ? clone(RunSpecSchema, spec) : create(RunSpecSchema);
    if (!out.rawDataStorage || out.rawDataStorage.rawDataPrefix === "") {
      out.rawDataStorage = create(RawDataStorageSchema, { rawDataPrefix: deps.storagePrefix });
    }
    return out;
  }

  function cacheKeyFor(spec: TaskSpec, inputsHash: () => string, key: RunKey): string {
    if (!isDiscoverable(spec.taskTemplate)) return "";
    try {
      return generateCacheKey(spec.taskTemplate, inputsHash());
    } catch (error) {
      log.warn({ run: describeKey(key), err: (error as Error).message }, "could not compute the cache key of the root action");
      return "";
    }
  }

  /** Stores the spec under its digest; "" when it could not be stored (the run still works from action_spec). */
  async function storeSpec(spec: TaskSpec, key: RunKey): Promise<string> {
    let stored;
    try {
      stored = specStorer.toStored(spec);
    } catch (error) {
      throw new ConnectError(`failed to create task spec model: ${(error as Error).message}`, Code.Internal, undefined, undefined, error);
    }
    try {
      await taskSpecs.put(stored.digest, stored.spec);
      return stored.digest;
    } catch (error) {
      log.warn({ run: describeKey(key), err: (error as Error).message }, "could not store the task spec; continuing without digest");
      return "";
    }
  }

  /**
   * Writes the run's inputs unless the run exists already (then its stored row,
   * its inputs untouched). With a store that can refuse to replace an object
   * (writeNew), the write itself is the existence check: only when the inputs
   * file is there already is the run looked up, and the file is replaced only
   * when no run has it (left behind by an attempt that stored no run). Without
   * writeNew, the run is looked up first.
   */
  async function writeInputs(id: RunIdentity, uri: string, data: Uint8Array): Promise<ActionRow | undefined> {
    try {
      if (blobStore.writeNew && (await blobStore.writeNew(uri, data))) return undefined;
      const existing = await actions.findRun(id);
      if (existing) return existing;
      await blobStore.write(uri, data);
      return undefined;
    } catch (error) {
      log.error({ run: describeKey(id), uri, err: (error as Error).message }, "failed to write inputs");
      throw new ConnectError(`failed to write inputs: ${(error as Error).message}`, Code.Internal, undefined, undefined, error);
    }
  }

  function existingRun(id: RunIdentity, row: ActionRow) {
    // Idempotent on the run name: the stored run is the answer; its inputs are left alone.
    log.info({ run: describeKey(id) }, "run already exists; returning it");
    return create(CreateRunResponseSchema, { run: runRowToRun(row) });
  }

  return {
    async createRun(req, ctx) {
      const id = resolveIdentity(req);
      await requireProject(projects, id.project);
      const source = await resolveTask(req);
      try {
        return await createNewRun(req, ctx, id, source);
      } catch (error) {
        // As when the name was looked up first: an existing run is the answer to a request a new run refuses
        // (invalid offloaded inputs, inputs that cannot be written). A database error stays an error, as before.
        const existing = error instanceof ConnectError ? await actions.findRun(id).catch(() => undefined) : undefined;
        if (existing) return existingRun(id, existing);
        throw error;
      }
    },
  };

  /**
   * The run's row, inputs and Enqueue. Nothing looks the name up before the
   * insert (it answers whether the run is new) except writeInputs, which must
   * not replace an existing run's inputs.
   */
  async function createNewRun(req: CreateRunRequest, ctx: HandlerContext, id: RunIdentity, source: TaskSource) {
    // What the request leaves out, a trigger's stored run spec and inputs fill in.
    const runSpec = effectiveRunSpec(req.runSpec ?? source.trigger?.defaults.runSpec);
    const triggerInputs = source.trigger?.defaults.inputs;
    const inputWrapper: CreateRunRequest["inputWrapper"] =
      req.inputWrapper.case === undefined && triggerInputs ? { case: "inputs", value: triggerInputs } : req.inputWrapper;
    let prefix = inputPrefix(deps.storagePrefix, id.project, id.domain, id.run);
    const outputBase = runOutputBase(deps.storagePrefix, id.project, id.domain, id.run);
    let cacheKey: string;
    if (inputWrapper.case === "offloadedInputData") {
      const offloaded = inputWrapper.value;
      if (offloaded.uri === "") throw invalid("offloaded_input_data.uri is required");
      prefix = offloaded.uri;
      cacheKey = cacheKeyFor(source.spec, () => offloaded.inputsHash, id);
    } else {
      const inputs: Inputs = fillDefaultInputs(inputWrapper.value, source.spec.defaultInputs);
      const existing = await writeInputs(id, inputsUri(prefix), toBinary(InputsSchema, inputs));
      if (existing) return existingRun(id, existing);
      cacheKey = cacheKeyFor(source.spec, () => computeFilteredInputsHash(source.spec.taskTemplate, inputs), id);
    }

    const digest = await storeSpec(source.spec, id);
    const actionId = {
      run: { org: id.org, project: id.project, domain: id.domain, name: id.run },
      name: ROOT_ACTION_NAME,
    };
    const actionSpec = create(ActionSpecSchema, {
      actionId,
      runSpec,
      inputUri: inputsUri(prefix),
      runOutputBase: outputBase,
      spec: { case: "task", value: { id: source.id, spec: source.spec } },
    });
    // Who asks (proxy-forwarded identity; none when untrusted or absent), stored whole and by subject.
    const executedBy = await callerIdentity(ctx);
    const executedBySubject = identitySubject(executedBy);
    const now = clock.now();
    const taskId = source.id;
    const row: NewActionRow = newActionRow(
      { project: id.project, domain: id.domain, run_name: id.run, name: ROOT_ACTION_NAME, created_at: now },
      {
        run_source: runSourceName(req.source),
        action_type: ActionType.TASK,
        task_project: nullIfEmpty(taskId?.project),
        task_domain: nullIfEmpty(taskId?.domain),
        task_name: nullIfEmpty(taskId?.name),
        task_version: nullIfEmpty(taskId?.version),
        task_type: source.spec.taskTemplate?.type ?? "",
        task_short_name: nullIfEmpty(source.spec.shortName),
        function_name: taskId?.name ?? "",
        environment_name: nullIfEmpty(source.spec.environment?.name),
        action_spec: toBinary(ActionSpecSchema, actionSpec),
        detailed_info: toBinary(RunInfoSchema, create(RunInfoSchema, { inputsUri: inputsUri(prefix), taskSpecDigest: digest })),
        run_spec: toBinary(RunSpecSchema, runSpec),
        trigger_name: nullIfEmpty(source.trigger?.name),
        trigger_task_name: nullIfEmpty(source.trigger?.taskName),
        trigger_revision: source.trigger?.revision ? source.trigger.revision : null,
        created_by: executedBy ? toBinary(EnrichedIdentitySchema, executedBy) : null,
        created_by_subject: nullIfEmpty(executedBySubject),
      },
    );
    const markTriggered = source.trigger
      ? { project: id.project, domain: id.domain, taskName: source.trigger.taskName, name: source.trigger.name }
      : undefined;
    const enqueue = enqueuer.prepare({
      action: {
        actionId,
        inputUri: prefix,
        runOutputBase: outputBase,
        spec: { case: "task", value: { id: source.id, spec: source.spec, cacheKey } },
      },
      runSpec,
    });
    const { row: stored, inserted } = await actions.createAction(row, { markTriggered, pendingEnqueue: enqueue.record });
    if (!inserted) {
      // The name is taken (a run with offloaded inputs, or one created concurrently): that run is the answer.
      log.info({ run: describeKey(id) }, "run already exists; returning it");
      return create(CreateRunResponseSchema, { run: runRowToRun(stored) });
    }

    try {
      await enqueue.send();
      log.info({ run: describeKey(id) }, "root action enqueued");
    } catch (error) {
      // The answer is unchanged (the run stays QUEUED); in the app the request was recorded with the run and the enqueue retrier retries it (src/service/enqueue-retrier.ts).
      log.error({ run: describeKey(id), err: (error as Error).message }, "failed to enqueue the root action");
    }
    return create(CreateRunResponseSchema, { run: runRowToRun(stored) });
  }
}

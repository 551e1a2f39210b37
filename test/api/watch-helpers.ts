/** Helpers of the Watch* API tests: a stream follower, row builders, polling. */
import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { ActionPhase } from "#gen/flyteidl2/common/phase_pb.js";
import { ActionSpecSchema, ActionType, type EnrichedAction } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import type { Repository } from "../../src/repository/index.js";
import type { NewActionRow } from "../../src/repository/schema/index.js";
import { systemClock } from "../../src/util/clock.js";
import { newActionRow } from "../../src/repository/transformers/action-row.js";

export const PROJECT = "flytesnacks";
export const DOMAIN = "development";
export const ORG = "testorg";
export const runId = (name: string, project = PROJECT, domain = DOMAIN) => ({ org: ORG, project, domain, name });
export const actionId = (run: string, name: string) => ({ run: runId(run), name });

const clock = systemClock();

export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server stream read in the background into `messages`, cancellable. */
export interface Follower<T> {
  readonly messages: T[];
  /** The stream's end: undefined when it ended OK, else its error. */
  readonly finished: Promise<ConnectError | undefined>;
  readonly done: boolean;
  /** Resolves once `check(messages)` holds; fails after timeoutMs or when the stream ends first. */
  until(check: (messages: T[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  cancel(): void;
}

export function follow<T>(open: (signal: AbortSignal) => AsyncIterable<T>): Follower<T> {
  const controller = new AbortController();
  const messages: T[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const finished = (async () => {
    try {
      for await (const m of open(controller.signal)) {
        messages.push(m);
        wake?.();
      }
      return undefined;
    } catch (error) {
      return ConnectError.from(error);
    } finally {
      done = true;
      wake?.();
    }
  })();
  return {
    messages,
    finished,
    get done() {
      return done;
    },
    async until(check, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check(messages)) {
        if (done) throw new Error(`stream ended (${String(await finished)}) before ${what}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 200));
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      }
    },
    cancel: () => controller.abort(),
  };
}

/** The newest state per action name seen on a WatchActions stream. */
export function latestActions(messages: { enrichedActions: EnrichedAction[] }[]): Map<string, EnrichedAction> {
  const out = new Map<string, EnrichedAction>();
  for (const m of messages) for (const a of m.enrichedActions) out.set(a.action!.id!.name, a);
  return out;
}

/** A TASK action row of a run (a root when parent is null). */
export function taskRow(run: string, name: string, parent: string | null, overrides: Partial<NewActionRow> = {}): NewActionRow {
  const now = clock.now();
  const taskName = overrides.task_name ?? `wf.${name}`;
  return newActionRow(
    { project: PROJECT, domain: DOMAIN, run_name: run, name, created_at: now },
    {
      parent_action_name: parent,
      action_type: ActionType.TASK,
      task_project: PROJECT,
      task_domain: DOMAIN,
      task_name: taskName,
      task_version: "v1",
      task_type: "python",
      function_name: taskName,
      environment_name: "wf",
      action_spec: toBinary(
        ActionSpecSchema,
        create(ActionSpecSchema, { spec: { case: "task", value: { id: { project: PROJECT, domain: DOMAIN, name: taskName, version: "v1" } } } }),
      ),
      ...overrides,
    },
  );
}

/** Inserts the rows in order. */
export async function insertRows(repo: Repository, rows: NewActionRow[]): Promise<void> {
  for (const row of rows) await repo.actions.createAction(row);
}

export async function setPhase(repo: Repository, run: string, action: string, phase: ActionPhase, endTime?: string): Promise<void> {
  await repo.actions.updateActionPhase({ project: PROJECT, domain: DOMAIN, run, action }, { phase, attempts: 1, cacheStatus: 0, endTime });
}

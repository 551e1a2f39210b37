/**
 * How CreateRun hands a new run's root action to the executor: the request is
 * prepared first, so that what must survive a crash (the record) is stored
 * with the run itself, then sent once the run is stored.
 */
import type { PendingEnqueueInit } from "../repository/interfaces/pending-enqueue.js";
import type { ActionsClient, CallOptions, EnqueueRequestInit } from "./actions-client.js";

export interface PreparedEnqueue {
  /** To store with the new action (ActionRepo.createAction's `pendingEnqueue`); undefined when nothing is kept. */
  readonly record: PendingEnqueueInit | undefined;
  /**
   * The first attempt; call it only once the action is stored. Rejects with
   * the executor's error when it refuses (a recorded request is then retried).
   */
  send(opts?: CallOptions): Promise<void>;
}

export interface RootEnqueuer {
  prepare(init: EnqueueRequestInit): PreparedEnqueue;
}

/** Straight to the executor with nothing recorded, so a failed Enqueue is never retried (tests, tools). */
export function directEnqueuer(client: ActionsClient): RootEnqueuer {
  return {
    prepare: (init) => ({ record: undefined, send: (opts) => client.enqueue(init, opts) }),
  };
}

/** The trigger scheduler's contract: what it needs, what a pass reports, how it is driven. */
import type { Logger } from "pino";
import type { TriggerSchedulerConfig } from "../config/index.js";
import type { ScheduleTriggerSource } from "../repository/interfaces/schedule-trigger.js";
import type { TriggerRepo } from "../repository/interfaces/trigger.js";
import type { Timers } from "../util/backoff.js";
import type { Clock } from "../util/clock.js";
import type { CreateRunFn } from "./in-process.js";

export interface TriggerSchedulerDeps {
  /** Lists the active schedule triggers (resync). */
  source: ScheduleTriggerSource;
  /** Reads one trigger right before it fires. */
  triggers: Pick<TriggerRepo, "get">;
  /** CreateRun, in process (see ./in-process.ts). */
  createRun: CreateRunFn;
  config: Omit<TriggerSchedulerConfig, "enabled">;
  logger: Logger;
  clock?: Clock;
  /** Timers for sleeping and rate-limit waits (tests pass controllable ones). */
  timers?: Timers;
  /** Uniform [0, 1) source for backoff jitter. */
  random?: () => number;
  /**
   * Whether a failed fire is worth retrying indefinitely (the database or the
   * executor is unreachable). Default: Unavailable, DeadlineExceeded,
   * ResourceExhausted and Aborted ConnectErrors and UnavailableError.
   */
  isTransientError?: (error: unknown) => boolean;
  /** Called with the number of catch-up slots a pass skipped (metrics). */
  onMissedSlots?: (slots: number) => void;
}

/** One slot handled by a pass. */
export interface FiredSlot {
  /** project/domain/task/name */
  trigger: string;
  /** The slot, ISO-8601 UTC. */
  slot: string;
  run: string;
  catchUp: boolean;
}

export interface PassResult {
  /** Slots for which CreateRun returned a run (new or already existing). */
  fired: FiredSlot[];
  /** Catch-up slots skipped because the budget was used up (cron slots counted up to 10,000 per trigger). */
  skipped: number;
  /** Fires that failed (retried later or given up). */
  failed: number;
}

export interface TriggerScheduler {
  /** Starts the loop (first pass at once). Idempotent. */
  start(): void;
  /** Stops the loop after the fire in flight (if any); nothing is lost, the next start resumes. */
  stop(): Promise<void>;
  /** One pass now (tests; start() runs these in a loop). Resyncs first when due or when `resync` is set. */
  runPass(opts?: { resync?: boolean }): Promise<PassResult>;
  /** Registered trigger keys with their revisions, e.g. "p/d/task/name@3" (tests, debugging). */
  registered(): string[];
  /** When the loop wakes up next (ms since the epoch); undefined before the first pass. */
  nextWakeMs(): number | undefined;
  /** Resolves once the loop sleeps (or is stopped). */
  whenIdle(): Promise<void>;
}

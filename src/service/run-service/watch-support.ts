/**
 * What every Watch* stream shares: its dependencies and tunables, and the
 * per-stream inbox that sits between the event bus and the stream.
 *
 * The bus calls a stream's listener synchronously inside the writer's
 * publish(), so the listener only records "entity K changed" in the inbox
 * (O(1), never blocks, never throws). The stream's loop takes everything
 * recorded so far, re-reads those entities from the database and sends the
 * result. While the loop is busy (reading, or blocked on a slow client),
 * further changes of the same entity collapse into one entry, so the stream
 * always catches up to the newest state. The inbox is bounded: when more
 * distinct entities are waiting than it holds, it drops them all and asks
 * the stream to re-read everything it watches instead (a "resync"), which
 * keeps memory flat whatever the write rate.
 */
import type { Logger } from "pino";
import type { ChangeEvent, EventBus } from "../../events/bus.js";
import type { ActionRepo } from "../../repository/interfaces/action.js";
import type { TaskSpecRepo } from "../../repository/interfaces/task.js";
import type { Clock } from "../../util/clock.js";

export interface WatchOptions {
  /** Distinct changed entities one stream holds before falling back to a resync (default 1000). */
  maxPendingKeys: number;
  /** Rows per page of the WatchActions snapshot and re-lists (default 1000: every page sorts the run on SQLite). */
  snapshotPageSize: number;
  /** Runs in the first WatchRuns message at most (default 100, the reference's snapshot size). */
  runsSnapshotSize: number;
  /** Items per message at most when a batch of updates is sent (default 500). */
  maxItemsPerMessage: number;
  /**
   * Above this many changed actions, WatchActions re-lists the run instead of
   * reading them by name (default 1000, the inbox bound: changed actions are
   * read with one query per 500, so only an overflow or a resync re-lists).
   */
  rescanThreshold: number;
  /** Concurrent point reads of one stream (default 4). */
  readConcurrency: number;
  /** WatchRuns resync: also re-read runs updated this long before the reported gap (clock skew, commit delay; default 60 s). */
  resyncMarginMs: number;
  /** WatchGroups: least time between two rebuilds (default 1 s). */
  groupsMinIntervalMs: number;
  /** WatchGroups: root actions read per rebuild at most (default 1000, as the reference). */
  groupsMaxRuns: number;
  /** WatchClusterEvents: events per read (default 500, as the reference). */
  clusterEventsPageSize: number;
}

export const DEFAULT_WATCH_OPTIONS: Readonly<WatchOptions> = Object.freeze({
  maxPendingKeys: 1000,
  snapshotPageSize: 1000,
  runsSnapshotSize: 100,
  maxItemsPerMessage: 500,
  rescanThreshold: 1000,
  readConcurrency: 4,
  resyncMarginMs: 60_000,
  groupsMinIntervalMs: 1000,
  groupsMaxRuns: 1000,
  clusterEventsPageSize: 500,
});

export interface WatchDeps {
  actions: ActionRepo;
  taskSpecs: TaskSpecRepo;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  watch?: Partial<WatchOptions>;
}

export function watchOptions(deps: Pick<WatchDeps, "watch">): WatchOptions {
  return { ...DEFAULT_WATCH_OPTIONS, ...deps.watch };
}

/** What one take() returns. */
export interface InboxBatch<T> {
  /** Newest value per key, in order of first arrival. */
  items: T[];
  /** Everything must be re-read (events were dropped or the bus asked for it). */
  resync: boolean;
  /** With resync: the earliest moment (epoch ms) from which changes may be missing; undefined ⇒ unknown. */
  resyncSinceMs: number | undefined;
}

/** Process-wide counts over every watch inbox, read by the Prometheus metrics. */
export const watchInboxStats = { coalesced: 0, overflows: 0 };

export class WatchInbox<T> {
  private pending = new Map<string, T>();
  private resync = false;
  private resyncSince: number | undefined;
  /** When the oldest waiting entry arrived. */
  private oldestMs: number | undefined;
  private waiter: { signal: AbortSignal; resolve: (work: boolean) => void } | undefined;
  /** Times the bound was hit (tests, diagnostics). */
  overflows = 0;

  constructor(
    private readonly maxKeys: number,
    private readonly nowMs: () => number,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  hasWork(): boolean {
    return this.resync || this.pending.size > 0;
  }

  /** Records that `key` changed (newest value wins). */
  put(key: string, value: T): void {
    if (this.pending.has(key)) {
      this.pending.set(key, value);
      watchInboxStats.coalesced++;
      return;
    }
    this.oldestMs ??= this.nowMs();
    if (this.pending.size >= this.maxKeys) {
      // Too far behind to track entities one by one: forget them, re-read everything.
      this.overflows++;
      watchInboxStats.overflows++;
      this.requestResync(this.oldestMs);
      this.pending.clear();
      return;
    }
    this.pending.set(key, value);
    this.wake();
  }

  /** Asks for a full re-read; `sinceMs` narrows what may be missing (undefined ⇒ unknown). */
  requestResync(sinceMs?: number): void {
    if (!this.resync) {
      this.resync = true;
      this.resyncSince = sinceMs;
    } else if (this.resyncSince !== undefined) {
      this.resyncSince = sinceMs === undefined ? undefined : Math.min(this.resyncSince, sinceMs);
    }
    this.wake();
  }

  take(): InboxBatch<T> {
    const batch: InboxBatch<T> = { items: [...this.pending.values()], resync: this.resync, resyncSinceMs: this.resyncSince };
    this.pending = new Map();
    this.resync = false;
    this.resyncSince = undefined;
    this.oldestMs = undefined;
    return batch;
  }

  /**
   * Resolves true when there is work, false as soon as `signal` aborts. A
   * stream waits on the same signal every time: its abort listener is added
   * once, not once per wait.
   */
  wait(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.hasWork()) return Promise.resolve(true);
    if (this.watched !== signal) {
      this.watched = signal;
      signal.addEventListener("abort", () => this.settle(signal, false), { once: true });
    }
    return new Promise<boolean>((resolve) => {
      this.waiter = { signal, resolve };
    });
  }

  private watched: AbortSignal | undefined;

  private settle(signal: AbortSignal | undefined, value: boolean): void {
    const w = this.waiter;
    if (w === undefined || (signal !== undefined && w.signal !== signal)) return;
    this.waiter = undefined;
    w.resolve(value);
  }

  private wake(): void {
    // An aborted stream's waiter resolves false (its abort listener may not have run yet).
    const w = this.waiter;
    if (w !== undefined) this.settle(undefined, !w.signal.aborted);
  }
}

/** A stream's subscription: bus events picked by `select` land in the inbox until close(). */
export interface WatchSubscription<T> {
  inbox: WatchInbox<T>;
  close(): void;
}

/**
 * Subscribes to the bus. `select` maps a change event to the entity it
 * concerns for this stream (key and value), or undefined to ignore it.
 * Resync events always reach the inbox.
 */
export function subscribeInbox<T>(
  deps: Pick<WatchDeps, "bus" | "clock">,
  options: Pick<WatchOptions, "maxPendingKeys">,
  select: (event: Exclude<ChangeEvent, { kind: "resync" }>) => { key: string; value: T } | undefined,
): WatchSubscription<T> {
  const inbox = new WatchInbox<T>(options.maxPendingKeys, () => deps.clock.nowMs());
  const unsubscribe = deps.bus.subscribe((event) => {
    if (event.kind === "resync") {
      inbox.requestResync(event.sinceMs);
      return;
    }
    const picked = select(event);
    if (picked) inbox.put(picked.key, picked.value);
  });
  let closed = false;
  return {
    inbox,
    close() {
      if (closed) return;
      closed = true;
      unsubscribe();
    },
  };
}

/**
 * Resolves after the event loop's pending I/O has run (setImmediate). A
 * stream woken by a change waits for this before it takes its inbox: the
 * requests already received (the CreateRuns that cause the changes) are
 * handled first, and every change they publish meanwhile lands in the same
 * batch, so under load a stream sends fewer, fuller messages instead of one
 * per change.
 */
export function afterPendingIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves after `ms`, or early (false) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const onAbort = () => {
      clearTimeout(handle);
      resolve(false);
    };
    const handle = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Maps with at most `limit` calls in flight; results in input order. */
export async function mapLimit<I, O>(items: readonly I[], limit: number, fn: (item: I) => Promise<O>): Promise<O[]> {
  const out = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Splits into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

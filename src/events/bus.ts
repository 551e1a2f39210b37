/**
 * Change notifications: every write that watchers must see publishes one of
 * these after it commits. In process for SQLite; on PostgreSQL the same
 * events also travel over NOTIFY so other replicas see them (channels and
 * payloads as the reference: `action_updates` = "project/domain/run/action",
 * `run_updates` = "project/domain/run").
 */
export type ChangeEvent =
  | { kind: "action"; project: string; domain: string; run: string; action: string }
  | { kind: "run"; project: string; domain: string; run: string }
  | ResyncEvent;

/**
 * "Updates may have been lost": the cross-process feed was interrupted (e.g.
 * the PostgreSQL LISTEN connection dropped and came back). Watchers re-read
 * what they watch. `sinceMs` (epoch ms, the publisher's clock) is the last
 * moment the feed was known to be complete, when known. Delivered in process
 * only; never sent to other processes.
 */
export interface ResyncEvent {
  kind: "resync";
  sinceMs?: number;
}

export type ChangeListener = (event: ChangeEvent) => void;

export interface EventBus {
  /** Fire-and-forget; never blocks the writer, never throws. */
  publish(event: ChangeEvent): void;
  /** Registers a listener; the returned function unsubscribes. Listeners must not throw or block. */
  subscribe(listener: ChangeListener): () => void;
  /** Number of live subscriptions (for tests and metrics). */
  subscriberCount(): number;
}

/** The in-process bus. Listeners run synchronously in publish order. */
export function createInProcessBus(): EventBus {
  const listeners = new Set<ChangeListener>();
  return {
    publish(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          // A broken listener must not affect the writer or the others.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    subscriberCount: () => listeners.size,
  };
}

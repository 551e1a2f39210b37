/**
 * Group commit for small writes: items added while the event loop is busy
 * are written together by one call to `flush` once the current I/O phase
 * ends (setImmediate), so 16 concurrent requests cost one statement instead
 * of 16. Each add() settles with its batch: resolved when `flush` succeeds,
 * rejected with its error otherwise. At most `maxBatch` items go to one
 * flush; further items wait for the next one. With `delayMs`, a batch is
 * written that long after its first item (at once when it is full), so items
 * that trickle in (one per request at low load) still share a statement.
 */
export interface Batcher<T> {
  add(item: T): Promise<void>;
}

export function createBatcher<T>(flush: (items: T[]) => Promise<void>, maxBatch = 500, delayMs = 0): Batcher<T> {
  let waiting: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const run = () => {
    scheduled = false;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const batch = waiting.slice(0, maxBatch);
    waiting = waiting.slice(batch.length);
    if (waiting.length > 0) schedule();
    const items = batch.map((w) => w.item);
    Promise.resolve()
      .then(() => flush(items))
      .then(
        () => {
          for (const w of batch) w.resolve();
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      );
  };

  function schedule(): void {
    if (delayMs > 0 && waiting.length < maxBatch) {
      timer ??= setTimeout(run, delayMs);
      return;
    }
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  }

  return {
    add(item) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}

/**
 * Group commit with a result per item: writes added while the event loop is
 * busy (or while earlier groups are still being written) go to the database
 * together, in one call of `flush`, so concurrent callers share one
 * transaction or statement. Each add() settles with its own item's outcome:
 * when a whole group fails, each of its items is written again on its own
 * (`single`), so one bad item fails only its own caller.
 *
 * At most `maxInFlight` groups are written at once; items arriving meanwhile
 * wait and form the next group (the longer a write takes, the larger the
 * next group grows). At most `maxBatch` items go into one group.
 */
export interface GroupCommit<I, R> {
  add(item: I): Promise<R>;
}

export interface GroupCommitOptions<I, R> {
  /** Writes a group; one result per item, in order. Rejects when nothing of the group was written. */
  flush(items: I[]): Promise<R[]>;
  /** Writes one item of a failed group on its own. */
  single(item: I): Promise<R>;
  /**
   * Whether a failed group's items are worth writing one by one (default:
   * always). False for errors no single item caused (the database busy or
   * unreachable): every item then gets the group's error, as it would alone.
   */
  retryAlone?(error: unknown): boolean;
  maxBatch?: number;
  maxInFlight?: number;
}

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export function createGroupCommit<I, R>(opts: GroupCommitOptions<I, R>): GroupCommit<I, R> {
  const maxBatch = Math.max(1, opts.maxBatch ?? 256);
  const maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
  let waiting: Waiting<I, R>[] = [];
  let inFlight = 0;
  let scheduled = false;

  function settleAlone(w: Waiting<I, R>): Promise<void> {
    return Promise.resolve()
      .then(() => opts.single(w.item))
      .then(w.resolve, w.reject);
  }

  async function write(group: Waiting<I, R>[]): Promise<void> {
    let results: R[];
    try {
      results = await opts.flush(group.map((w) => w.item));
      if (results.length !== group.length) throw new Error(`group commit: ${results.length} results for ${group.length} items`);
    } catch (error) {
      if (opts.retryAlone && !opts.retryAlone(error)) {
        for (const w of group) w.reject(error);
        return;
      }
      // Nothing of the group was written: each item on its own, so only a bad one fails.
      await Promise.all(group.map(settleAlone));
      return;
    }
    group.forEach((w, i) => w.resolve(results[i]!));
  }

  function run(): void {
    scheduled = false;
    while (inFlight < maxInFlight && waiting.length > 0) {
      const group = waiting.slice(0, maxBatch);
      waiting = waiting.slice(group.length);
      inFlight++;
      void write(group).finally(() => {
        inFlight--;
        if (waiting.length > 0) schedule();
      });
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  }

  return {
    add(item) {
      return new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (inFlight < maxInFlight) schedule();
      });
    },
  };
}

/**
 * One database read per changed entity, shared by every stream that needs it.
 *
 * A write publishes one event; every stream watching that entity wakes and
 * must re-read it. Done stream by stream, 1,000 WatchRuns streams turn 100
 * writes/s into 100,000 point reads/s. SharedReads collapses them: a stream
 * asks for the entity "as of after the event I saw", and gets either a read
 * that started after that moment (in flight or finished) or a new one.
 *
 * "After" is decided on a logical clock shared by the streams and the cache
 * (everything runs on one thread, so tick order is real order): a stream
 * stamps each event it records with tick(); a read is stamped when it starts.
 * A read stamped later than the stream's newest event for the key saw that
 * event's write (events are published after their write commits), so any
 * stream may use it. Finished reads stay cached (bounded, least recently
 * used first out) so streams that wake late still find them.
 */

export class SharedReads<V> {
  private clock = 0;
  private readonly entries = new Map<string, { tick: number; value: Promise<V> }>();
  /** Reads started (tests, diagnostics). */
  loads = 0;

  constructor(private readonly maxEntries = 2000) {}

  /** The current moment; stamp an event with it when recording it. */
  tick(): number {
    return ++this.clock;
  }

  /** Entity `key` as read after moment `seenAt` (a value from tick()); `load` reads it when no such read exists. */
  get(key: string, seenAt: number, load: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && entry.tick > seenAt) {
      // Refresh its place in the LRU order.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.value;
    }
    const fresh = { tick: this.tick(), value: load() };
    this.loads++;
    this.entries.delete(key);
    this.entries.set(key, fresh);
    // A failed read is not kept: the next asker retries.
    fresh.value.catch(() => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return fresh.value;
  }

  /**
   * get() for many keys at once: the keys no usable read covers are loaded
   * together by one `loadMany` call (which returns a value per key it was
   * given; a key it leaves out gets undefined). Values in `wanted` order.
   */
  getMany<K extends string>(
    wanted: readonly { key: K; seenAt: number }[],
    loadMany: (keys: K[]) => Promise<ReadonlyMap<K, V>>,
  ): Promise<(V | undefined)[]> {
    const values: Promise<V | undefined>[] = [];
    const missing: K[] = [];
    const slots: number[] = [];
    for (const { key, seenAt } of wanted) {
      const entry = this.entries.get(key);
      if (entry && entry.tick > seenAt) {
        this.entries.delete(key);
        this.entries.set(key, entry);
        values.push(entry.value);
      } else {
        slots.push(values.length);
        values.push(Promise.resolve(undefined));
        missing.push(key);
      }
    }
    if (missing.length > 0) {
      const tick = this.tick();
      const batch = loadMany(missing);
      this.loads++;
      missing.forEach((key, i) => {
        const fresh = { tick, value: batch.then((m) => m.get(key) as V) };
        values[slots[i]] = fresh.value;
        this.entries.delete(key);
        this.entries.set(key, fresh);
        fresh.value.catch(() => {
          if (this.entries.get(key) === fresh) this.entries.delete(key);
        });
      });
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
    }
    return Promise.all(values);
  }

  /** Entries held (tests, diagnostics). */
  get size(): number {
    return this.entries.size;
  }
}

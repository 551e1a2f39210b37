/**
 * The bidi streams' engine: items a stream delivers together are written
 * together, and no more items are taken off the wire than are being written.
 *
 * A reader takes items off the request stream while the previous batch is
 * being written, but never holds more than `maxInFlight` items that have
 * been read and not yet answered. Past that it stops reading, so HTTP/2 flow
 * control holds the client back (the server buffers a bounded number of
 * items, whatever the client sends). The writer takes what the reader has
 * (at most `maxBatch` items), writes them with one call and answers them in
 * order, each with its own outcome. An item is answered only after the
 * batch holding it has been written.
 */

export interface StreamBatchOptions {
  /** Items read but not answered, per stream, at most (default 256). */
  maxInFlight: number;
  /** Items per write at most (default 128). */
  maxBatch: number;
}

export const DEFAULT_STREAM_BATCH_OPTIONS: Readonly<StreamBatchOptions> = Object.freeze({ maxInFlight: 256, maxBatch: 128 });

/** Items read off executor streams and not answered yet (for tests and metrics). */
export interface StreamGauge {
  /** Now, over all streams. */
  readonly inFlight: number;
  /** The most any one stream has held at once since start-up. */
  readonly peakPerStream: number;
  /** Batches written and items in them (the mean batch size is items ÷ batches). */
  readonly batches: number;
  readonly items: number;
}

export interface MutableStreamGauge extends StreamGauge {
  inFlight: number;
  peakPerStream: number;
  batches: number;
  items: number;
}

export function createStreamGauge(): MutableStreamGauge {
  return { inFlight: 0, peakPerStream: 0, batches: 0, items: 0 };
}

/**
 * Answers every item of `requests` in order: `write` gets each batch and
 * returns one answer per item (it must not throw: a failed write is answered
 * per item). Ends when the request stream ends; a transport error of the
 * request stream ends it with that error once the items read before it are
 * answered.
 */
export async function* batchedStream<Req, Res>(
  requests: AsyncIterable<Req>,
  write: (batch: Req[]) => Promise<Res[]>,
  options: StreamBatchOptions = DEFAULT_STREAM_BATCH_OPTIONS,
  gauge: MutableStreamGauge = createStreamGauge(),
): AsyncGenerator<Res> {
  const maxInFlight = Math.max(1, options.maxInFlight);
  const maxBatch = Math.max(1, Math.min(options.maxBatch, maxInFlight));
  const queue: Req[] = [];
  /** Read and not yet answered (queued, being written, or being sent). */
  let inFlight = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let stopped = false;
  let wakeWriter: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const signalWriter = () => {
    const w = wakeWriter;
    wakeWriter = undefined;
    w?.();
  };

  const iterator = requests[Symbol.asyncIterator]();
  const reader = (async () => {
    try {
      while (!stopped) {
        if (inFlight >= maxInFlight) {
          await new Promise<void>((resolve) => (wakeReader = resolve));
          wakeReader = undefined;
          continue;
        }
        const next = await iterator.next();
        if (next.done || stopped) break;
        queue.push(next.value);
        inFlight++;
        gauge.inFlight++;
        if (inFlight > gauge.peakPerStream) gauge.peakPerStream = inFlight;
        signalWriter();
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      signalWriter();
    }
  })();

  try {
    for (;;) {
      if (queue.length === 0) {
        if (ended) break;
        await new Promise<void>((resolve) => {
          wakeWriter = resolve;
          if (queue.length > 0 || ended) signalWriter();
        });
        continue;
      }
      // Let the reader take what has already arrived (a write on SQLite never
      // waits for I/O, so without this turn every batch would hold one item).
      if (queue.length < maxBatch && !ended) await new Promise<void>((resolve) => setImmediate(resolve));
      const batch = queue.splice(0, maxBatch);
      const answers = await write(batch);
      gauge.batches++;
      gauge.items += batch.length;
      for (const answer of answers) {
        yield answer;
        inFlight--;
        gauge.inFlight--;
        wakeReader?.();
      }
    }
    await reader;
    if (failure) throw failure.error;
  } finally {
    stopped = true;
    gauge.inFlight -= inFlight;
    inFlight = 0;
    wakeReader?.();
    // Ends the request side when the response side stops early.
    void iterator.return?.()?.catch?.(() => undefined);
  }
}

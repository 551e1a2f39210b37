/**
 * The bidi streams' reading side, stopped by shutdown. An executor keeps its
 * streams open for good, so a handler blocked on "the next request" would
 * hold a graceful shutdown for the whole grace period. Reading through this
 * ends the handler's loop as soon as `signal` aborts: the item being handled
 * is finished and acknowledged, no further item is taken (one already
 * buffered was never acknowledged, so the executor sends it again on its next
 * stream), and the handler returns, which ends the stream with status OK.
 */
export async function* untilAborted<T>(items: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T, void, undefined> {
  if (signal.aborted) return;
  const it = items[Symbol.asyncIterator]();
  // Whether a read is still pending: then the source must not be returned (an
  // async generator would only run return() after that read).
  let abandoned = false;
  let finished = false;
  try {
    while (!signal.aborted) {
      const next = it.next();
      // A fresh abort promise per read, dropped after it: Promise.race leaves a
      // reaction on every promise it is given, so racing each read against one
      // long-lived promise would keep every item ever read alive for as long
      // as the stream lasts.
      let onAbort!: () => void;
      const aborted = new Promise<typeof ABORTED>((resolve) => {
        onAbort = () => resolve(ABORTED);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      let first: IteratorResult<T> | typeof ABORTED;
      try {
        first = await Promise.race([next, aborted]);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
      if (first === ABORTED) {
        abandoned = true;
        // The read ends with the stream; what it brings is dropped unacknowledged.
        next.catch(() => undefined);
        return;
      }
      if (first.done) {
        finished = true;
        return;
      }
      yield first.value;
    }
  } finally {
    if (!abandoned && !finished) {
      void Promise.resolve(it.return?.()).catch(() => undefined);
    }
  }
}

const ABORTED = Symbol("aborted");

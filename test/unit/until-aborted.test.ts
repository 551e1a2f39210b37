import { describe, expect, it } from "vitest";
import { untilAborted } from "../../src/service/internal-run-service/until-aborted.js";

/** A source that hands out the given items, then waits for ever (an executor's open stream). */
function openStream<T>(first: T[]) {
  let returned = false;
  const source = {
    get returned() {
      return returned;
    },
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const queue = [...first];
      return {
        next: () => (queue.length > 0 ? Promise.resolve({ done: false, value: queue.shift()! }) : new Promise(() => undefined)),
        return: () => {
          returned = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      };
    },
  };
  return source;
}

describe("untilAborted", () => {
  it("hands out items, and ends while waiting for the next one once the signal aborts", async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = (async () => {
      for await (const item of untilAborted(openStream([1, 2]), controller.signal)) seen.push(item);
      return "ended";
    })();
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([1, 2]);
    controller.abort();
    expect(await loop).toBe("ended");
  });

  it("lets the item in hand finish, then takes no further item even when one is ready", async () => {
    const controller = new AbortController();
    const handled: number[] = [];
    for await (const item of untilAborted(openStream([1, 2, 3]), controller.signal)) {
      controller.abort(); // shutdown while item 1 is being handled
      await new Promise((r) => setTimeout(r, 1));
      handled.push(item);
    }
    expect(handled).toEqual([1]);
  });

  it("ends with the source, and returns the source when the consumer stops early", async () => {
    const controller = new AbortController();
    const finite = (async function* () {
      yield 1;
      yield 2;
    })();
    const all: number[] = [];
    for await (const item of untilAborted(finite, controller.signal)) all.push(item);
    expect(all).toEqual([1, 2]);

    const source = openStream([1, 2]);
    for await (const item of untilAborted(source, controller.signal)) if (item === 1) break;
    expect(source.returned).toBe(true);
  });

  it("takes nothing when the signal is already aborted", async () => {
    const all: number[] = [];
    for await (const item of untilAborted(openStream([1]), AbortSignal.abort())) all.push(item);
    expect(all).toEqual([]);
  });

  it("keeps no item it handed on alive while the stream stays open", async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, "vitest runs the workers with --expose-gc").toBeTypeOf("function");
    const refs: WeakRef<object>[] = [];
    let release!: () => void;
    const more = new Promise<void>((r) => (release = r));
    const source = (async function* () {
      for (let i = 0; i < 200; i++) {
        const item = { i, payload: new Array(64).fill(i) };
        refs.push(new WeakRef(item));
        yield item;
      }
      await more; // the stream stays open: the next read waits
    })();
    const controller = new AbortController();
    let seen = 0;
    const consumer = (async () => {
      for await (const item of untilAborted(source, controller.signal)) seen += item.i >= 0 ? 1 : 0;
    })();
    while (seen < 200) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 5)); // WeakRef targets are kept until the current job ends
    gc!();
    const alive = refs.slice(0, 190).filter((r) => r.deref() !== undefined).length;
    expect(alive).toBe(0);
    release();
    await consumer;
  });
});

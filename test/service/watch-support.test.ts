// The per-stream inbox between the event bus and a Watch* stream: coalescing, bound, resync, abort.
import { describe, expect, it } from "vitest";
import { createInProcessBus } from "../../src/events/bus.js";
import { mapLimit, subscribeInbox, WatchInbox } from "../../src/service/run-service/watch-support.js";

describe("WatchInbox", () => {
  it("keeps the newest value per key, in order of first arrival", () => {
    const inbox = new WatchInbox<number>(10, () => 0);
    inbox.put("a", 1);
    inbox.put("b", 2);
    inbox.put("a", 3);
    expect(inbox.take()).toEqual({ items: [3, 2], resync: false, resyncSinceMs: undefined });
    expect(inbox.hasWork()).toBe(false);
  });

  it("past its bound forgets the entries and asks for a resync since the oldest one arrived", () => {
    let now = 1000;
    const inbox = new WatchInbox<string>(3, () => now);
    inbox.put("a", "a");
    now = 2000;
    inbox.put("b", "b");
    inbox.put("c", "c");
    inbox.put("c", "c"); // same key: no growth
    expect(inbox.overflows).toBe(0);
    inbox.put("d", "d");
    expect(inbox.overflows).toBe(1);
    expect(inbox.size).toBe(0);
    inbox.put("e", "e"); // still tracked after the overflow
    expect(inbox.take()).toEqual({ items: ["e"], resync: true, resyncSinceMs: 1000 });
  });

  it("stays bounded whatever the number of distinct keys", () => {
    const inbox = new WatchInbox<number>(100, () => 0);
    for (let i = 0; i < 100_000; i++) inbox.put(`k${i}`, i);
    expect(inbox.size).toBeLessThanOrEqual(100);
    expect(inbox.take().resync).toBe(true);
  });

  it("merges resync requests: the earliest since wins, an unknown one wins over all", () => {
    const inbox = new WatchInbox<number>(10, () => 0);
    inbox.requestResync(50);
    inbox.requestResync(20);
    expect(inbox.take().resyncSinceMs).toBe(20);
    inbox.requestResync(50);
    inbox.requestResync();
    inbox.requestResync(10);
    const batch = inbox.take();
    expect(batch.resync).toBe(true);
    expect(batch.resyncSinceMs).toBeUndefined();
  });

  it("wait() resolves on work or on abort, with one abort listener however often it waits", async () => {
    const inbox = new WatchInbox<number>(10, () => 0);
    const controller = new AbortController();
    let added = 0;
    let removed = 0;
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      return add(...args);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed++;
      return remove(...args);
    }) as typeof signal.removeEventListener;

    for (let i = 0; i < 50; i++) {
      const waiting = inbox.wait(signal);
      inbox.put("k", i);
      expect(await waiting).toBe(true);
      inbox.take();
    }
    // One listener for the stream's lifetime (`once`: gone after the abort), not one per wait.
    expect(added - removed).toBeLessThanOrEqual(1);
    const waiting = inbox.wait(signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(await inbox.wait(signal)).toBe(false);
  });
});

describe("subscribeInbox", () => {
  it("routes selected events and every resync into the inbox; close() unsubscribes once", () => {
    const bus = createInProcessBus();
    const sub = subscribeInbox<string>({ bus, clock: { now: () => "", nowMs: () => 0 } }, { maxPendingKeys: 10 }, (e) =>
      e.kind === "action" && e.run === "r1" ? { key: e.action, value: e.action } : undefined,
    );
    expect(bus.subscriberCount()).toBe(1);
    bus.publish({ kind: "action", project: "p", domain: "d", run: "r1", action: "a1" });
    bus.publish({ kind: "action", project: "p", domain: "d", run: "r2", action: "a2" });
    bus.publish({ kind: "run", project: "p", domain: "d", run: "r1" });
    bus.publish({ kind: "resync", sinceMs: 5 });
    expect(sub.inbox.take()).toEqual({ items: ["a1"], resync: true, resyncSinceMs: 5 });
    sub.close();
    sub.close();
    expect(bus.subscriberCount()).toBe(0);
  });
});

describe("mapLimit", () => {
  it("keeps order and the concurrency bound", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5 - (n % 3)));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
  });
});

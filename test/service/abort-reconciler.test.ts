import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/repository/errors.js";
import type { ActionKey } from "../../src/repository/interfaces/action.js";
import type { ActionRow } from "../../src/repository/schema/index.js";
import { createAbortReconciler, effectiveAbortConfig, isAlreadyTerminated } from "../../src/service/abort-reconciler.js";
import type { AbortRequestInit, ActionsClient } from "../../src/service/actions-client.js";
import { backoffCeiling, fullJitterDelay, type Timers } from "../../src/util/backoff.js";
import { quietLogger } from "../support/databases.js";
import { manualClock } from "../support/manual-clock.js";

const CONFIG = { workers: 2, maxAttempts: 3, queueSize: 100, initialDelay: 10, maxDelay: 50 };

const keyString = (k: ActionKey) => `${k.project}/${k.domain}/${k.run}/${k.action}`;

/** The reconciler's slice of ActionRepo over an in-memory table of pending aborts. */
function fakeActions(pending: { key: ActionKey; reason: string | null }[] = []) {
  const rows = new Map(pending.map((p) => [keyString(p.key), { ...p, count: 0, cleared: false }]));
  const calls = { mark: [] as string[], clear: [] as string[], scans: 0 };
  let failMark: Error | undefined;
  return {
    rows,
    calls,
    failNextMark(error: Error) {
      failMark = error;
    },
    add(key: ActionKey, reason: string) {
      rows.set(keyString(key), { key, reason, count: 0, cleared: false });
    },
    repo: {
      async listPendingAborts() {
        calls.scans++;
        return [...rows.values()]
          .filter((r) => !r.cleared)
          .map((r) => ({ project: r.key.project, domain: r.key.domain, run_name: r.key.run, name: r.key.action, abort_reason: r.reason }) as ActionRow);
      },
      async markAbortAttempt(key: ActionKey) {
        calls.mark.push(keyString(key));
        if (failMark) {
          const e = failMark;
          failMark = undefined;
          throw e;
        }
        const row = rows.get(keyString(key));
        if (!row) throw new NotFoundError(`action not found: ${keyString(key)}`);
        row.count++;
        return row.count;
      },
      async clearAbortRequest(key: ActionKey) {
        calls.clear.push(keyString(key));
        const row = rows.get(keyString(key));
        if (row) {
          row.cleared = true;
          row.count = 0;
        }
      },
    },
  };
}

/** An executor whose answers are scripted per call (default: success). */
function fakeClient(script: (call: number, req: AbortRequestInit) => Promise<void> | void = () => undefined) {
  const requests: AbortRequestInit[] = [];
  const client: ActionsClient = {
    async enqueue() {},
    async abort(req) {
      requests.push(req);
      await script(requests.length, req);
    },
  };
  return { client, requests };
}

/** Timers that fire on the next macrotask whatever the delay, recording the delays asked for. */
function instantTimers(): Timers & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    setTimeout(fn, ms) {
      delays.push(ms);
      return setImmediate(fn);
    },
    clearTimeout(handle) {
      clearImmediate(handle as NodeJS.Immediate);
    },
  };
}

const KEY: ActionKey = { project: "proj", domain: "dev", run: "rtest1", action: "rtest1" };
const KEY2: ActionKey = { project: "proj", domain: "dev", run: "rtest2", action: "a0" };

function setup(opts: { pending?: { key: ActionKey; reason: string | null }[]; script?: Parameters<typeof fakeClient>[0]; random?: () => number } = {}) {
  const actions = fakeActions(opts.pending ?? [{ key: KEY, reason: "User requested abort" }]);
  const { client, requests } = fakeClient(opts.script);
  const timers = instantTimers();
  const reconciler = createAbortReconciler({
    actions: actions.repo,
    client,
    config: CONFIG,
    logger: quietLogger,
    clock: manualClock(),
    timers,
    random: opts.random ?? (() => 0.5),
  });
  return { actions, requests, timers, reconciler };
}

describe("abort reconciler", () => {
  it("aborts a pending action found by the start-up scan on the first attempt and clears the request", async () => {
    const { actions, requests, reconciler } = setup();
    reconciler.start();
    await reconciler.whenIdle();
    expect(requests).toEqual([
      { actionId: { run: { org: "", project: "proj", domain: "dev", name: "rtest1" }, name: "rtest1" }, reason: "User requested abort" },
    ]);
    expect(actions.calls.mark).toEqual(["proj/dev/rtest1/rtest1"]);
    expect(actions.calls.clear).toEqual(["proj/dev/rtest1/rtest1"]);
    await reconciler.stop();
  });

  it("retries failures with backoff and clears after the success (three calls)", async () => {
    const { actions, requests, timers, reconciler } = setup({
      script: (n) => {
        if (n < 3) throw new ConnectError("unavailable", Code.Unavailable);
      },
    });
    reconciler.start();
    await reconciler.whenIdle();
    expect(requests).toHaveLength(3);
    expect(actions.calls.mark).toHaveLength(3);
    expect(actions.calls.clear).toHaveLength(1);
    // random 0.5: half of 10 × 2^0, then half of 10 × 2^1.
    expect(timers.delays).toEqual([5, 10]);
    await reconciler.stop();
  });

  it("gives up at the maximum number of attempts, clears the request and calls no more", async () => {
    const { actions, requests, reconciler } = setup({
      script: () => {
        throw new Error("always fails");
      },
    });
    reconciler.start();
    await reconciler.whenIdle();
    expect(requests).toHaveLength(3);
    expect(actions.calls.clear).toEqual(["proj/dev/rtest1/rtest1"]);
    await new Promise((r) => setTimeout(r, 20));
    expect(requests).toHaveLength(3);
    await reconciler.stop();
  });

  it("ignores a push for an action that is already in progress", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { requests, reconciler } = setup({ script: () => gate });
    reconciler.start();
    while (requests.length === 0) await new Promise((r) => setImmediate(r));
    expect(reconciler.push(KEY, "again")).toBe(false);
    release();
    await reconciler.whenIdle();
    expect(requests).toHaveLength(1);
    await reconciler.stop();
  });

  it("also ignores pushes while an action waits for its retry, and accepts it again afterwards", async () => {
    const actions = fakeActions([]);
    actions.add(KEY, "r");
    let fail = true;
    const { client, requests } = fakeClient(() => {
      if (fail) throw new Error("down");
    });
    const fired: (() => void)[] = [];
    const timers: Timers = { setTimeout: (fn) => fired.push(fn), clearTimeout: () => undefined };
    const reconciler = createAbortReconciler({ actions: actions.repo, client, config: CONFIG, logger: quietLogger, timers });
    reconciler.push(KEY, "r");
    reconciler.start();
    while (fired.length === 0) await new Promise((r) => setImmediate(r));
    expect(reconciler.push(KEY, "r")).toBe(false);
    fail = false;
    fired.shift()!();
    await reconciler.whenIdle();
    expect(requests).toHaveLength(2);
    expect(reconciler.push(KEY, "r")).toBe(true);
    await reconciler.whenIdle();
    await reconciler.stop();
  });

  it("picks up every pending action at start-up", async () => {
    const { actions, requests, reconciler } = setup({
      pending: [
        { key: KEY, reason: "first" },
        { key: KEY2, reason: null },
      ],
    });
    reconciler.start();
    await reconciler.whenIdle();
    expect(requests.map((r) => [r.actionId?.run?.name, r.reason]).sort()).toEqual([
      ["rtest1", "first"],
      ["rtest2", ""],
    ]);
    expect(actions.calls.clear.sort()).toEqual(["proj/dev/rtest1/rtest1", "proj/dev/rtest2/a0"]);
    await reconciler.stop();
  });

  it("treats NotFound from the executor as success (one call)", async () => {
    const { actions, requests, reconciler } = setup({
      script: () => {
        throw new ConnectError("no such action", Code.NotFound);
      },
    });
    reconciler.start();
    await reconciler.whenIdle();
    expect(requests).toHaveLength(1);
    expect(actions.calls.clear).toHaveLength(1);
    await reconciler.stop();
  });

  it("treats Internal errors saying 'not found' as success, other Internal errors as failures", () => {
    expect(isAlreadyTerminated(new ConnectError('pods "x" not found', Code.Internal))).toBe(true);
    expect(isAlreadyTerminated(new ConnectError("boom", Code.Internal))).toBe(false);
    expect(isAlreadyTerminated(new ConnectError("gone", Code.NotFound))).toBe(true);
    expect(isAlreadyTerminated(new Error("not found"))).toBe(false);
  });

  it("drops a task whose row is gone and retries one whose attempt could not be recorded", async () => {
    const actions = fakeActions([]);
    const { client, requests } = fakeClient();
    const timers = instantTimers();
    const reconciler = createAbortReconciler({ actions: actions.repo, client, config: CONFIG, logger: quietLogger, timers });
    reconciler.start();
    reconciler.push(KEY2, "gone");
    await reconciler.whenIdle();
    expect(requests).toHaveLength(0);

    actions.add(KEY, "r");
    actions.failNextMark(new Error("database is locked"));
    reconciler.push(KEY, "r");
    await reconciler.whenIdle();
    expect(timers.delays).toEqual([CONFIG.initialDelay]);
    expect(requests).toHaveLength(1);
    expect(actions.rows.get("proj/dev/rtest1/rtest1")?.cleared).toBe(true);
    await reconciler.stop();
  });

  it("survives a failing start-up scan and keeps serving pushes", async () => {
    const actions = fakeActions([]);
    actions.repo.listPendingAborts = async () => {
      throw new Error("connection refused");
    };
    actions.add(KEY, "r");
    const { client, requests } = fakeClient();
    const reconciler = createAbortReconciler({ actions: actions.repo, client, config: CONFIG, logger: quietLogger, timers: instantTimers() });
    reconciler.start();
    reconciler.push(KEY, "r");
    await reconciler.whenIdle();
    expect(requests).toHaveLength(1);
    await reconciler.stop();
  });

  it("never blocks on a full queue and rescans the database once it drains", async () => {
    const actions = fakeActions([]);
    const keys = [0, 1, 2, 3].map((i): ActionKey => ({ project: "p", domain: "d", run: `r${i}`, action: "a0" }));
    for (const k of keys) actions.add(k, "r");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { client, requests } = fakeClient(() => gate);
    const reconciler = createAbortReconciler({
      actions: actions.repo,
      client,
      config: { ...CONFIG, workers: 1, queueSize: 1 },
      logger: quietLogger,
      timers: instantTimers(),
    });
    actions.repo.listPendingAborts = (async () => []) as typeof actions.repo.listPendingAborts;
    reconciler.start();
    await new Promise((r) => setImmediate(r));
    expect(reconciler.push(keys[0], "r")).toBe(true); // taken by the worker
    while (requests.length === 0) await new Promise((r) => setImmediate(r));
    expect(reconciler.push(keys[1], "r")).toBe(true); // queued
    expect(reconciler.push(keys[2], "r")).toBe(false); // full
    expect(reconciler.push(keys[3], "r")).toBe(false);
    // The rescan reads the real table again.
    const real = fakeActions([]);
    for (const k of keys) real.add(k, "r");
    actions.repo.listPendingAborts = async () => real.repo.listPendingAborts().then((rows) => rows.filter((r) => !actions.rows.get(`${r.project}/${r.domain}/${r.run_name}/${r.name}`)?.cleared));
    release();
    await reconciler.whenIdle();
    expect(new Set(requests.map((r) => r.actionId?.run?.name))).toEqual(new Set(["r0", "r1", "r2", "r3"]));
    await reconciler.stop();
  });

  it("stop() waits for the call in flight, then refuses pushes; pending requests stay in the table", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { actions, requests, reconciler } = setup({ script: () => gate });
    reconciler.start();
    while (requests.length === 0) await new Promise((r) => setImmediate(r));
    let stopped = false;
    const stopping = reconciler.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(actions.calls.clear).toHaveLength(1);
    expect(reconciler.push(KEY2, "late")).toBe(false);
  });

  it("stop() cancels a hung call after the grace period without clearing the request", async () => {
    const hung = fakeActions([{ key: KEY, reason: "r" }]);
    const honouring: ActionsClient = {
      async enqueue() {},
      abort: (_req, opts) =>
        new Promise((_resolve, reject) => opts?.signal?.addEventListener("abort", () => reject(new ConnectError("cancelled", Code.Canceled)))),
    };
    const reconciler = createAbortReconciler({ actions: hung.repo, client: honouring, config: CONFIG, logger: quietLogger, timers: instantTimers() });
    reconciler.start();
    while (hung.calls.mark.length === 0) await new Promise((r) => setImmediate(r));
    await reconciler.stop({ graceMs: 10 });
    expect(hung.calls.clear).toEqual([]);
    expect(hung.rows.get("proj/dev/rtest1/rtest1")?.cleared).toBe(false);
  });
});

describe("backoff", () => {
  it("doubles from the initial delay and caps at the maximum", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeiling(n, 10, 50))).toEqual([10, 20, 40, 50, 50, 50]);
    expect(backoffCeiling(2000, 1000, 300_000)).toBe(300_000);
  });

  it("draws uniformly from [0, ceiling] (full jitter)", () => {
    expect(fullJitterDelay(3, 10, 50, () => 0)).toBe(0);
    expect(fullJitterDelay(3, 10, 50, () => 0.999999)).toBe(40);
    for (let i = 0; i < 200; i++) {
      const d = fullJitterDelay(4, 10, 50);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(50);
    }
  });

  it("falls back to the defaults for non-positive settings", () => {
    expect(effectiveAbortConfig({ workers: 0, maxAttempts: -1, queueSize: 0, initialDelay: 0, maxDelay: 0 })).toEqual({
      workers: 5,
      maxAttempts: 10,
      queueSize: 1000,
      initialDelay: 1000,
      maxDelay: 300_000,
    });
  });
});

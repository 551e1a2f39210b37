// createGroupCommit: concurrent adds share one flush, each settles with its own result, a failed group is
// written again item by item (only the bad item fails), and at most maxInFlight groups are written at once.
import { describe, expect, it } from "vitest";
import { createGroupCommit } from "../../src/util/group-commit.js";

describe("createGroupCommit", () => {
  it("writes the items added in one tick as one group and answers each with its own result", async () => {
    const groups: number[][] = [];
    const g = createGroupCommit<number, string>({
      flush: async (items) => (groups.push(items), items.map((i) => `ok${i}`)),
      single: async () => {
        throw new Error("not expected");
      },
    });
    expect(await Promise.all([g.add(1), g.add(2), g.add(3)])).toEqual(["ok1", "ok2", "ok3"]);
    expect(await g.add(4)).toBe("ok4");
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  it("a failed group is written item by item: a bad item fails its own caller only", async () => {
    const singles: number[] = [];
    const g = createGroupCommit<number, number>({
      flush: async (items) => {
        if (items.includes(13)) throw new Error("constraint");
        return items;
      },
      single: async (item) => {
        singles.push(item);
        if (item === 13) throw new Error(`bad item ${item}`);
        return item * 10;
      },
    });
    const results = await Promise.allSettled([g.add(1), g.add(13), g.add(2)]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([10, "bad item 13", 20]);
    expect(singles).toEqual([1, 13, 2]);
  });

  it("a flush that throws synchronously or answers the wrong count falls back to single writes", async () => {
    const sync = createGroupCommit<number, number>({
      flush: () => {
        throw new Error("boom");
      },
      single: async (i) => i + 1,
    });
    expect(await Promise.all([sync.add(1), sync.add(2)])).toEqual([2, 3]);
    const short = createGroupCommit<number, number>({ flush: async () => [0], single: async (i) => -i });
    expect(await Promise.all([short.add(1), short.add(2)])).toEqual([-1, -2]);
  });

  it("items arriving while maxInFlight groups are written wait and form the next group; maxBatch splits groups", async () => {
    const groups: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const g = createGroupCommit<number, number>({
      flush: async (items) => {
        groups.push(items);
        if (groups.length === 1) await gate;
        return items;
      },
      single: async (i) => i,
      maxInFlight: 1,
      maxBatch: 3,
    });
    const first = g.add(0);
    await new Promise((r) => setImmediate(r));
    const later = [1, 2, 3, 4, 5].map((i) => g.add(i));
    await new Promise((r) => setImmediate(r));
    expect(groups).toEqual([[0]]);
    release();
    expect(await Promise.all([first, ...later])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(groups).toEqual([[0], [1, 2, 3], [4, 5]]);
  });
});

describe("createGroupCommit retryAlone", () => {
  it("a group error no single item caused fails every item of the group without writing them one by one", async () => {
    let singles = 0;
    const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    const g = createGroupCommit<number, number>({
      flush: async () => {
        throw busy;
      },
      single: async (i) => (singles++, i),
      retryAlone: (error) => (error as { code?: string }).code !== "SQLITE_BUSY",
    });
    const results = await Promise.allSettled([g.add(1), g.add(2)]);
    expect(results.map((r) => r.status === "rejected" && r.reason)).toEqual([busy, busy]);
    expect(singles).toBe(0);
  });
});

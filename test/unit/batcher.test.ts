// createBatcher: what is added in one tick is flushed together, and every add settles with its batch.
import { describe, expect, it } from "vitest";
import { createBatcher } from "../../src/util/batcher.js";

describe("createBatcher", () => {
  it("flushes the items added in one tick with one call, later items with the next", async () => {
    const flushed: number[][] = [];
    const b = createBatcher<number>(async (items) => void flushed.push(items));
    await Promise.all([b.add(1), b.add(2), b.add(3)]);
    await b.add(4);
    expect(flushed).toEqual([[1, 2, 3], [4]]);
  });

  it("rejects every add of a failed flush, and only those", async () => {
    let fail = true;
    const b = createBatcher<number>(async () => {
      if (fail) throw new Error("disk full");
    });
    const first = await Promise.allSettled([b.add(1), b.add(2)]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    await expect(b.add(3)).resolves.toBeUndefined();
  });

  it("a flush that throws synchronously rejects its adds instead of escaping", async () => {
    const b = createBatcher<number>(() => {
      throw new Error("boom");
    });
    await expect(b.add(1)).rejects.toThrow("boom");
  });

  it("splits a tick's items into batches of at most maxBatch", async () => {
    const sizes: number[] = [];
    const b = createBatcher<number>(async (items) => void sizes.push(items.length), 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => b.add(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });
});

describe("createBatcher with a delay", () => {
  it("items added within the delay share one flush; a full batch is flushed at once", async () => {
    const flushed: number[][] = [];
    const b = createBatcher<number>(async (items) => void flushed.push(items), 3, 30);
    const first = b.add(1);
    await new Promise((r) => setTimeout(r, 5));
    const second = b.add(2);
    await Promise.all([first, second]);
    expect(flushed).toEqual([[1, 2]]);
    await Promise.all([b.add(3), b.add(4), b.add(5), b.add(6)]);
    expect(flushed).toEqual([[1, 2], [3, 4, 5], [6]]);
  });
});

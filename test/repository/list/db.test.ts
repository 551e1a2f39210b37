/**
 * The list machinery against real databases: the same test bodies run on an
 * in-memory SQLite and on a throwaway PostgreSQL database.
 */
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { FilterSchema, Filter_Function, ListRequestSchema } from "#gen/flyteidl2/common/list_pb.js";
import { InvalidArgumentError } from "../../../src/repository/errors.js";
import { parseTimestamp } from "../../../src/repository/timestamps.js";
import {
  applyFilters,
  listScope,
  makeFilter,
  paginate,
  parseListRequest,
  toSqlParam,
  type ColumnSet,
  type FilterExpr,
  type FilterOp,
  type PageOptions,
  type SortParam,
  type SqlDialect,
} from "../../../src/repository/list/index.js";

const PG = { host: "127.0.0.1", port: 5432, user: "postgres" };

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ ...PG, database: "postgres", connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

const pgUnavailable = await probePostgres();
if (pgUnavailable) console.warn(`skipping PostgreSQL list tests: no PostgreSQL at 127.0.0.1:5432 (${pgUnavailable})`);

// ---------------------------------------------------------------- fixture

const COLUMNS: ColumnSet = {
  grp: { type: "text" },
  id: { type: "int" },
  name: { type: "text" },
  label: { type: "text", nullable: true },
  num: { type: "int" },
  big: { type: "int", nullable: true },
  flag: { type: "bool" },
  created_at: { type: "timestamp" },
  ended_at: { type: "timestamp", nullable: true },
};
const TIE_BREAK = ["grp", "id"];

interface Item {
  grp: string;
  id: number;
  name: string;
  label: string | null;
  num: number;
  big: string | null;
  flag: boolean;
  created_at: string;
  ended_at: string | null;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  "alpha", "Alpha", "ALPHA", "beta", "50%", "500", "5000", "a_b", "axb", "back\\slash", "éclair", "Éclair",
  "zeta", "Zeta", "mid%dle_x", "", "b", "B", "_lead", "%lead",
];
const LABELS = ["x", "X", "y", "long label", "a%", "ß"];
const STAMPS = [
  "2026-01-02T03:04:05.000000Z",
  "2026-01-02T03:04:05.000001Z",
  "2026-01-02T03:04:05.000002Z",
  "2026-01-02T03:04:06.999999Z",
  "2025-12-31T23:59:59.999999Z",
];

function seedItems(count: number, seed: number, grpPrefix = ""): Item[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const items: Item[] = [];
  for (let i = 0; i < count; i++) {
    items.push({
      grp: grpPrefix + pick(["a", "B", "c"]),
      id: i,
      name: pick(NAMES),
      label: r() < 0.35 ? null : pick(LABELS),
      num: pick([-2, 0, 1, 1, 3, 7]),
      big: r() < 0.3 ? null : String(pick([-1, 0, 2 ** 40, 2 ** 40 + 1, 2 ** 52])),
      flag: r() < 0.5,
      created_at: pick(STAMPS),
      ended_at: r() < 0.4 ? null : pick(STAMPS),
    });
  }
  return items;
}

const ITEMS = seedItems(50, 42);

// Independent model of the ordering rule: byte-order text, numeric ints,
// false < true, chronological timestamps, NULLs last in both directions.
function compareValue(column: string, a: unknown, b: unknown): number {
  const type = COLUMNS[column].type;
  if (type === "text") return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string));
  if (type === "int") {
    const x = BigInt(a as string | number);
    const y = BigInt(b as string | number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (type === "bool") return Number(a) - Number(b);
  return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
}

function comparator(sort: readonly SortParam[]): (a: Item, b: Item) => number {
  const keys: SortParam[] = [];
  for (const s of [...sort, ...TIE_BREAK.map((column) => ({ column, direction: "asc" as const }))]) {
    if (!keys.some((k) => k.column === s.column)) keys.push(s);
  }
  return (a, b) => {
    for (const k of keys) {
      const va = (a as never)[k.column] as unknown;
      const vb = (b as never)[k.column] as unknown;
      if (va === null && vb === null) continue;
      if (va === null) return 1;
      if (vb === null) return -1;
      const c = compareValue(k.column, va, vb);
      if (c !== 0) return k.direction === "asc" ? c : -c;
    }
    return 0;
  };
}

const DEFAULT_SORT: SortParam[] = [{ column: "created_at", direction: "desc" }];
const SORTS: Record<string, SortParam[]> = {
  default: [],
  "name asc": [{ column: "name", direction: "asc" }],
  "name desc": [{ column: "name", direction: "desc" }],
  "num asc": [{ column: "num", direction: "asc" }],
  "num desc": [{ column: "num", direction: "desc" }],
  "created_at asc": [{ column: "created_at", direction: "asc" }],
  "label asc (nullable)": [{ column: "label", direction: "asc" }],
  "label desc (nullable)": [{ column: "label", direction: "desc" }],
  "ended_at asc (nullable)": [{ column: "ended_at", direction: "asc" }],
  "ended_at desc (nullable)": [{ column: "ended_at", direction: "desc" }],
  "big desc (nullable bigint)": [{ column: "big", direction: "desc" }],
  "flag desc, name asc, created_at desc": [
    { column: "flag", direction: "desc" },
    { column: "name", direction: "asc" },
    { column: "created_at", direction: "desc" },
  ],
  "num asc, label desc, ended_at asc": [
    { column: "num", direction: "asc" },
    { column: "label", direction: "desc" },
    { column: "ended_at", direction: "asc" },
  ],
  "id desc (a key column)": [{ column: "id", direction: "desc" }],
};

const keyOf = (i: Pick<Item, "grp" | "id">) => `${i.grp}/${i.id}`;

// ---------------------------------------------------------------- databases

interface Harness {
  db: Kysely<any>;
  close(): Promise<void>;
}

async function openSqlite(): Promise<Harness> {
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
  await sql`create table items (
    grp text not null, id integer not null, name text not null, label text, num integer not null,
    big bigint, flag integer not null, created_at text not null, ended_at text,
    primary key (grp, id))`.execute(db);
  return { db, close: () => db.destroy() };
}

async function openPostgres(): Promise<Harness> {
  const dbName = `list_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ ...PG, database: "postgres" });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const pool = new pg.Pool({
    ...PG,
    database: dbName,
    max: 4,
    options: "-c TimeZone=UTC",
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 1184
          ? (text: string) => parseTimestamp(text) ?? text
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  // A linguistic collation where available, so byte-order sorting is really exercised ("a" < "B" there).
  const icu = await admin.query(`select 1 from pg_collation where collname = 'en-x-icu'`);
  const coll = icu.rowCount ? sql.raw(` collate "en-x-icu"`) : sql.raw("");
  await sql`create table items (
    grp text${coll} not null, id integer not null, name text${coll} not null, label text${coll},
    num integer not null, big bigint, flag boolean not null, created_at timestamptz not null,
    ended_at timestamptz, primary key (grp, id))`.execute(db);
  return {
    db,
    async close() {
      await db.destroy();
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    },
  };
}

async function insertItems(db: Kysely<any>, dialect: SqlDialect, items: Item[]): Promise<void> {
  await db
    .insertInto("items")
    .values(items.map((i) => ({ ...i, flag: toSqlParam("bool", i.flag, dialect) })))
    .execute();
}

function normalise(row: Record<string, unknown>): Item {
  return {
    grp: row.grp as string,
    id: Number(row.id),
    name: row.name as string,
    label: row.label as string | null,
    num: Number(row.num),
    big: row.big === null ? null : String(row.big),
    flag: row.flag === true || row.flag === 1,
    created_at: row.created_at as string,
    ended_at: row.ended_at as string | null,
  };
}

// ---------------------------------------------------------------- tests

describe.each([
  { dialect: "sqlite" as const, open: openSqlite, skip: undefined },
  { dialect: "postgres" as const, open: openPostgres, skip: pgUnavailable },
])("list machinery on $dialect", ({ dialect, open, skip }) => {
  let h: Harness;

  beforeAll(async () => {
    if (skip) return;
    h = await open();
    await insertItems(h.db, dialect, ITEMS);
  });
  afterAll(async () => {
    if (h) await h.close();
  });

  const pageOpts = (sort: SortParam[], limit: number | undefined, token: string, filters: FilterExpr[] = []): PageOptions => ({
    sort,
    defaultSort: DEFAULT_SORT,
    tieBreak: TIE_BREAK,
    columns: COLUMNS,
    limit,
    token,
    scope: listScope("ListItems", filters),
    dialect,
  });

  async function walk(sort: SortParam[], size: number, filters: FilterExpr[] = [], between?: (page: number) => Promise<void>) {
    const out: Item[] = [];
    let token = "";
    for (let page = 0; page < 1000; page++) {
      const qb = applyFilters(h.db.selectFrom("items").selectAll(), filters, dialect);
      const res = await paginate(qb, pageOpts(sort, size, token, filters));
      expect(res.rows.length).toBeLessThanOrEqual(size);
      out.push(...res.rows.map(normalise));
      if (res.nextToken === "") return out;
      expect(res.rows.length).toBe(size);
      token = res.nextToken;
      if (between) await between(page);
    }
    throw new Error("pagination did not terminate");
  }

  it.skipIf(skip)("stores and returns the fixture unchanged (timestamps canonical, bigints exact)", async () => {
    const rows = (await h.db.selectFrom("items").selectAll().execute()).map(normalise);
    expect(rows.sort((a, b) => a.id - b.id)).toEqual(ITEMS);
  });

  for (const [label, sort] of Object.entries(SORTS)) {
    it.skipIf(skip)(`walks every page exactly once: ${label}`, async () => {
      const expected = [...ITEMS].sort(comparator(sort.length ? sort : DEFAULT_SORT));
      const all = await paginate(h.db.selectFrom("items").selectAll(), pageOpts(sort, undefined, ""));
      expect(all.nextToken).toBe("");
      expect(all.rows.map(normalise)).toEqual(expected);
      for (const size of [1, 7, 50]) {
        expect((await walk(sort, size)).map(keyOf)).toEqual(expected.map(keyOf));
      }
      // A limit above the row count is a single page.
      const one = await paginate(h.db.selectFrom("items").selectAll(), pageOpts(sort, 51, ""));
      expect(one.nextToken).toBe("");
      expect(one.rows).toHaveLength(50);
    });
  }

  const FILTERS: [FilterOp, string, string[], (i: Item) => boolean][] = [
    ["eq", "name", ["alpha"], (i) => i.name === "alpha"],
    ["ne", "name", ["alpha"], (i) => i.name !== "alpha"],
    ["gt", "name", ["b"], (i) => Buffer.compare(Buffer.from(i.name), Buffer.from("b")) > 0],
    ["lte", "name", ["Zeta"], (i) => Buffer.compare(Buffer.from(i.name), Buffer.from("Zeta")) <= 0],
    ["contains", "name", ["lph"], (i) => i.name.includes("lph")],
    ["contains", "name", ["LPH"], (i) => i.name.includes("LPH")],
    ["contains", "name", ["50%"], (i) => i.name.includes("50%")],
    ["contains", "name", ["a_b"], (i) => i.name.includes("a_b")],
    ["contains", "name", ["_"], (i) => i.name.includes("_")],
    ["contains", "name", ["\\"], (i) => i.name.includes("\\")],
    ["contains", "name", [""], () => true],
    ["contains", "label", ["%"], (i) => i.label !== null && i.label.includes("%")],
    ["ends_with", "name", ["a"], (i) => i.name.endsWith("a")],
    ["ends_with", "name", ["%"], (i) => i.name.endsWith("%")],
    ["ends_with", "name", ["_x"], (i) => i.name.endsWith("_x")],
    ["ends_with", "name", [""], () => true],
    ["ends_with", "name", ["a longer suffix than any name"], () => false],
    ["not_ends_with", "name", ["A"], (i) => !i.name.endsWith("A")],
    ["not_ends_with", "label", ["x"], (i) => i.label !== null && !i.label.endsWith("x")],
    ["contains_ci", "name", ["ALPHA"], (i) => i.name.toLowerCase().includes("alpha")],
    ["contains_ci", "name", ["%L"], (i) => i.name.toLowerCase().includes("%l")],
    ["contains_ci", "name", ["éclair"], (i) => i.name === "éclair"],
    ["in", "num", ["1", "3"], (i) => i.num === 1 || i.num === 3],
    ["in", "num", ["7"], (i) => i.num === 7],
    ["in", "name", ["b", "B", "nope"], (i) => i.name === "b" || i.name === "B"],
    ["gte", "num", ["1"], (i) => i.num >= 1],
    ["lt", "num", ["-1"], (i) => i.num < -1],
    ["eq", "flag", ["t"], (i) => i.flag],
    ["eq", "flag", ["0"], (i) => !i.flag],
    ["ne", "flag", ["true"], (i) => !i.flag],
    ["gte", "created_at", ["2026-01-02T03:04:05.000001Z"], (i) => i.created_at >= STAMPS[1]],
    ["lt", "created_at", ["2026-01-02T05:04:05.000002+02:00"], (i) => i.created_at < STAMPS[2]],
    ["eq", "created_at", ["2026-01-02T03:04:05.000001Z"], (i) => i.created_at === STAMPS[1]],
    ["gt", "ended_at", ["2026-01-01T00:00:00Z"], (i) => i.ended_at !== null && i.ended_at > "2026-01-01"],
    ["eq", "label", ["x"], (i) => i.label === "x"],
    ["ne", "label", ["x"], (i) => i.label !== null && i.label !== "x"],
    ["gt", "big", ["1099511627776"], (i) => i.big !== null && BigInt(i.big) > 2n ** 40n],
    ["lte", "big", ["0"], (i) => i.big !== null && BigInt(i.big) <= 0n],
  ];

  it.skipIf(skip)("filters of every function select the same rows as the model", async () => {
    for (const [op, column, values, predicate] of FILTERS) {
      const f = makeFilter(COLUMNS, column, op, values);
      const rows = await applyFilters(h.db.selectFrom("items").select(["grp", "id"]), [f], dialect).execute();
      const got = rows.map((r) => keyOf({ grp: r.grp as string, id: Number(r.id) })).sort();
      const want = ITEMS.filter(predicate).map(keyOf).sort();
      expect({ op, column, values, got }).toEqual({ op, column, values, got: want });
    }
    // The fixture really has the rows that make these cases meaningful.
    expect(ITEMS.some((i) => i.name === "500") && ITEMS.some((i) => i.name === "50%")).toBe(true);
    expect(ITEMS.some((i) => i.name === "axb") && ITEMS.some((i) => i.name === "a_b")).toBe(true);
    expect(ITEMS.some((i) => i.name === "Alpha") && ITEMS.some((i) => i.name === "alpha")).toBe(true);
  });

  it.skipIf(skip)("ANDs request filters and pages through the filtered rows", async () => {
    const req = create(ListRequestSchema, {
      limit: 3,
      filters: [
        create(FilterSchema, { field: "num", function: Filter_Function.VALUE_IN, values: ["1", "3", "7"] }),
        create(FilterSchema, { field: "label", function: Filter_Function.NOT_EQUAL, values: ["y"] }),
      ],
    });
    const input = parseListRequest(req, COLUMNS);
    const sort: SortParam[] = [{ column: "label", direction: "asc" }];
    const want = ITEMS.filter((i) => [1, 3, 7].includes(i.num) && i.label !== null && i.label !== "y")
      .sort(comparator(sort))
      .map(keyOf);
    expect(want.length).toBeGreaterThan(3);
    expect((await walk(sort, input.limit!, input.filters)).map(keyOf)).toEqual(want);

    // The way a repository calls it: the parsed input spread into the page options.
    const got: string[] = [];
    let token = "";
    do {
      const qb = applyFilters(h.db.selectFrom("items").selectAll(), input.filters, dialect);
      const page = await paginate(qb, {
        ...input,
        token,
        sort: [{ column: "label", direction: "asc" }],
        defaultSort: DEFAULT_SORT,
        tieBreak: TIE_BREAK,
        columns: COLUMNS,
        scope: listScope("ListItems", input.filters),
        dialect,
      });
      got.push(...page.rows.map((r) => keyOf(normalise(r))));
      token = page.nextToken;
    } while (token !== "");
    expect(got).toEqual(want);
  });

  it.skipIf(skip)("pages over a subquery with qualified column references", async () => {
    const sort: SortParam[] = [{ column: "ended_at", direction: "desc" }, { column: "name", direction: "asc" }];
    const filters = [makeFilter(COLUMNS, "num", "gte", ["0"])];
    const want = ITEMS.filter((i) => i.flag && i.num >= 0).sort(comparator(sort)).map(keyOf);
    const got: string[] = [];
    let token = "";
    do {
      const inner = h.db.selectFrom("items").selectAll().where("flag", "=", toSqlParam("bool", true, dialect));
      const qb = applyFilters(h.db.selectFrom(inner.as("t")).selectAll(), filters, dialect, { table: "t" });
      const page = await paginate(qb, { ...pageOpts(sort, 4, token, filters), table: "t" });
      got.push(...page.rows.map((r) => keyOf(normalise(r))));
      token = page.nextToken;
    } while (token !== "");
    expect(got).toEqual(want);
  });

  it.skipIf(skip)("neither skips nor repeats rows when rows are inserted between pages", async () => {
    const sort: SortParam[] = [{ column: "name", direction: "asc" }];
    const extra = seedItems(20, 7, "new-");
    let inserted = 0;
    try {
      const got = await walk(sort, 7, [], async (page) => {
        if (page === 1 || page === 3) {
          await insertItems(h.db, dialect, extra.slice(inserted, inserted + 10));
          inserted += 10;
        }
      });
      const keys = got.map(keyOf);
      expect(new Set(keys).size).toBe(keys.length);
      expect(ITEMS.map(keyOf).filter((k) => !keys.includes(k))).toEqual([]);
      expect(got).toEqual([...got].sort(comparator(sort)));
    } finally {
      await h.db.deleteFrom("items").where("grp", "like", "new-%").execute();
    }
  });

  it.skipIf(skip)("rejects a non-integer value for an int column and a token from another scope", async () => {
    const bad = create(ListRequestSchema, {
      filters: [create(FilterSchema, { field: "num", function: Filter_Function.EQUAL, values: ["abc"] })],
    });
    expect(() => parseListRequest(bad, COLUMNS)).toThrow(InvalidArgumentError);
    expect(() => parseListRequest(bad, COLUMNS)).toThrow('filter num: "abc" is not an integer');

    const sort: SortParam[] = [{ column: "num", direction: "asc" }];
    const first = await paginate(h.db.selectFrom("items").selectAll(), pageOpts(sort, 5, ""));
    expect(first.nextToken).not.toBe("");
    const other: PageOptions = { ...pageOpts(sort, 5, first.nextToken), scope: "ListOtherThings" };
    await expect(paginate(h.db.selectFrom("items").selectAll(), other)).rejects.toThrow(InvalidArgumentError);
    const filtered = pageOpts(sort, 5, first.nextToken, [makeFilter(COLUMNS, "num", "eq", ["1"])]);
    await expect(paginate(h.db.selectFrom("items").selectAll(), filtered)).rejects.toThrow(/invalid token/);
    const resorted = pageOpts([{ column: "num", direction: "desc" }], 5, first.nextToken);
    await expect(paginate(h.db.selectFrom("items").selectAll(), resorted)).rejects.toThrow(/invalid token/);
    await expect(paginate(h.db.selectFrom("items").selectAll(), pageOpts(sort, 5, "garbage!"))).rejects.toThrow(
      /invalid token/,
    );
  });
});

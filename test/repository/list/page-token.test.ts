import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/repository/errors.js";
import {
  buildPageQuery,
  decodePageToken,
  encodePageToken,
  hashScope,
  listScope,
  resolveOrder,
  type ColumnSet,
  type PageOptions,
} from "../../../src/repository/list/index.js";
import { compileOnly, thrown } from "./helpers.js";

const COLS: ColumnSet = {
  project: { type: "text" },
  name: { type: "text" },
  version: { type: "text" },
  phase: { type: "int" },
  big: { type: "int", nullable: true },
  active: { type: "bool" },
  created_at: { type: "timestamp" },
  ended_at: { type: "timestamp", nullable: true },
  label: { type: "text", nullable: true },
};

function opts(over: Partial<PageOptions> = {}): PageOptions {
  return {
    sort: [],
    defaultSort: [{ column: "created_at", direction: "desc" }],
    tieBreak: ["project", "name", "version"],
    columns: COLS,
    limit: 2,
    token: "",
    scope: listScope("ListThings", "p", "d", []),
    dialect: "postgres",
    ...over,
  };
}

function query(o: PageOptions) {
  return buildPageQuery(compileOnly(o.dialect).selectFrom("t").selectAll(), o);
}

function invalidToken(fn: () => unknown): string {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(InvalidArgumentError);
  expect(e.message).toMatch(/^invalid token: /);
  return e.message;
}

const row = (over: Record<string, unknown> = {}) => ({
  project: "p",
  name: "n",
  version: "v1",
  phase: 4,
  big: "9007199254740993",
  active: true,
  created_at: "2026-01-02T03:04:05.000001Z",
  ended_at: null,
  label: "x",
  ...over,
});

describe("page token encoding", () => {
  it("round-trips", () => {
    const content = { scopeHash: hashScope("s"), values: ["a", null, true, "2026-01-02T03:04:05.000001Z", "-12"] };
    const token = encodePageToken(content);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token)).toEqual(content);
  });

  it("hashes scopes stably and distinctly", () => {
    expect(hashScope("a")).toBe(hashScope("a"));
    expect(hashScope("a")).not.toBe(hashScope("b"));
    expect(hashScope("a")).toHaveLength(16);
    expect(listScope("X", 1n, new Uint8Array([1]))).toBe('X:["1n","AQ=="]');
  });

  it("rejects anything that is not a token", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    invalidToken(() => decodePageToken("!!!"));
    invalidToken(() => decodePageToken("abc=")); // padding is not base64url
    invalidToken(() => decodePageToken(b64("not json")));
    invalidToken(() => decodePageToken(b64("[1,2]")));
    invalidToken(() => decodePageToken(b64("null")));
    expect(invalidToken(() => decodePageToken(b64('{"v":2,"s":"x","k":[]}')))).toContain("version");
    invalidToken(() => decodePageToken(b64('{"v":1,"s":"x"}')));
    invalidToken(() => decodePageToken(b64('{"v":1,"s":"x","k":[{"a":1}]}')));
    invalidToken(() => decodePageToken(b64('{"v":1,"s":"x","k":[1]}')));
    invalidToken(() => decodePageToken("a".repeat(10_000)));
  });
});

describe("buildPageQuery", () => {
  it("orders by the default sort then the key, fetching limit + 1 rows", () => {
    const { queries } = query(opts());
    expect(queries).toHaveLength(1);
    const { sql, parameters } = queries[0].compile();
    expect(sql).toBe(
      'select * from "t" order by "created_at" desc, "project" collate "C" asc, "name" collate "C" asc, ' +
        '"version" collate "C" asc limit $1',
    );
    expect(parameters).toEqual([3]);
  });

  it("puts NULLs last explicitly on nullable columns, byte order on text (SQLite)", () => {
    const o = opts({
      dialect: "sqlite",
      sort: [
        { column: "label", direction: "desc" },
        { column: "name", direction: "desc" },
        { column: "label", direction: "asc" },
      ],
      limit: undefined,
    });
    expect(query(o).queries[0].compile().sql).toBe(
      'select * from "t" order by "label" collate binary desc nulls last, "name" collate binary desc, ' +
        '"project" collate binary asc, "version" collate binary asc',
    );
  });

  it("rejects a tie-break that may be NULL or is unknown (programming errors)", () => {
    expect(() => resolveOrder(opts({ tieBreak: ["label"] }))).toThrow(/must be NOT NULL/);
    expect(() => resolveOrder(opts({ tieBreak: ["nope"] }))).toThrow(/no column type/);
    expect(() => resolveOrder(opts({ tieBreak: [] }))).toThrow(/tie-break key is required/);
  });

  it("returns no token on the last page", () => {
    const page = query(opts()).finish([row(), row({ version: "v2" })]);
    expect(page.nextToken).toBe("");
    expect(page.rows).toHaveLength(2);
    expect(query(opts({ limit: undefined })).finish([row(), row(), row()]).nextToken).toBe("");
  });

  it("encodes the last kept row's order values exactly", () => {
    const o = opts({
      sort: [
        { column: "big", direction: "asc" },
        { column: "active", direction: "desc" },
        { column: "ended_at", direction: "asc" },
        { column: "phase", direction: "asc" },
        { column: "created_at", direction: "desc" },
      ],
    });
    const rows = [
      row({ version: "a" }),
      row({ version: "b", active: 0, big: 5, created_at: "2026-01-02 03:04:05.000007+00", ended_at: null }),
      row({ version: "c" }),
    ];
    const page = query(o).finish(rows);
    expect(page.rows.map((r) => r.version)).toEqual(["a", "b"]);
    expect(decodePageToken(page.nextToken).values).toEqual([
      "5",
      false,
      null,
      "4",
      "2026-01-02T03:04:05.000007Z",
      "p",
      "n",
      "b",
    ]);
    // The token leads to one range per group of keys after the position, deepest first: equal on the
    // groups before it, beyond it on its own. Adjacent non-nullable keys sorted the same way are one group
    // compared as a row value (project, name, version); nothing is beyond the NULL ended_at.
    const next = query({ ...o, token: page.nextToken }).queries.map((q) => q.compile());
    expect(next).toHaveLength(5);
    const where = (i: number) => next[i].sql.slice(next[i].sql.indexOf("where "), next[i].sql.indexOf(" order by"));
    expect(where(0)).toBe(
      'where "big" = $1 and "active" = $2 and "ended_at" is null and "phase" = $3 and "created_at" = $4 and ' +
        '("project" collate "C", "name" collate "C", "version" collate "C") > ($5, $6, $7)',
    );
    expect(where(1)).toBe('where "big" = $1 and "active" = $2 and "ended_at" is null and "phase" = $3 and "created_at" < $4');
    expect(where(2)).toBe('where "big" = $1 and "active" = $2 and "ended_at" is null and "phase" > $3');
    expect(where(3)).toBe('where "big" = $1 and "active" < $2');
    expect(where(4)).toBe('where ("big" > $1 or "big" is null)');
    expect(next[4].parameters).toEqual([5, 3]);
    expect(next[3].parameters).toEqual([5, false, 3]);
    expect(next[0].parameters.slice(4, 7)).toEqual(["p", "n", "b"]);
    expect(next[0].parameters).toContain("2026-01-02T03:04:05.000007Z");
  });

  it("keeps bigints beyond 2^53 exact", () => {
    const o = opts({ sort: [{ column: "big", direction: "desc" }] });
    const page = query(o).finish([row({ version: "a" }), row({ version: "b" }), row({ version: "c" })]);
    expect(decodePageToken(page.nextToken).values[0]).toBe("9007199254740993");
    const next = query({ ...o, token: page.nextToken }).queries.at(-1)!.compile();
    expect(next.parameters[0]).toBe(9007199254740993n);
  });

  it("binds booleans of the position as 1/0 on SQLite", () => {
    const o = opts({ dialect: "sqlite", sort: [{ column: "active", direction: "asc" }] });
    const page = query(o).finish([row({ version: "a" }), row({ version: "b", active: 1 }), row({ version: "c" })]);
    expect(decodePageToken(page.nextToken).values[0]).toBe(true);
    expect(query({ ...o, token: page.nextToken }).queries.at(-1)!.compile().parameters[0]).toBe(1);
  });

  it("rejects a token from another scope, filter or sort", () => {
    const o = opts();
    const token = query(o).finish([row({ version: "a" }), row({ version: "b" }), row({ version: "c" })]).nextToken;
    expect(() => query({ ...o, token })).not.toThrow();
    expect(() => query({ ...o, token, limit: 50 })).not.toThrow(); // the page size may change
    expect(invalidToken(() => query({ ...o, token, scope: listScope("ListThings", "p", "other", []) }))).toContain(
      "another list, filter or sort order",
    );
    invalidToken(() => query({ ...o, token, sort: [{ column: "created_at", direction: "asc" }] }));
    invalidToken(() => query({ ...o, token, scope: listScope("ListOther", "p", "d", []) }));
  });

  it("rejects tampered positions", () => {
    const o = opts({ sort: [{ column: "phase", direction: "asc" }] });
    const token = query(o).finish([row({ version: "a" }), row({ version: "b" }), row({ version: "c" })]).nextToken;
    const content = decodePageToken(token);
    const forge = (values: unknown[]) => encodePageToken({ scopeHash: content.scopeHash, values: values as never });
    invalidToken(() => query({ ...o, token: forge(["abc", "p", "n", "b"]) }));
    invalidToken(() => query({ ...o, token: forge([null, "p", "n", "b"]) }));
    invalidToken(() => query({ ...o, token: forge(["4", "p", "n"]) }));
    invalidToken(() => query({ ...o, token: forge(["4", "p", "n", true]) }));
    invalidToken(() => query({ ...o, token: token.slice(0, -3) }));
    // A well-formed edited position is just another start point.
    expect(() => query({ ...o, token: forge(["7", "p", "n", "zzz"]) })).not.toThrow();
  });

  it("requires the sort and key columns in the rows", () => {
    const { finish } = query(opts());
    expect(() => finish([{ name: "x" }, { name: "y" }, { name: "z" }] as never)).toThrow(/must include column/);
  });
});

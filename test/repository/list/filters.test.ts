import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { FilterSchema, Filter_Function } from "#gen/flyteidl2/common/list_pb.js";
import { InvalidArgumentError } from "../../../src/repository/errors.js";
import {
  ACTION_COLUMNS,
  PROJECT_COLUMNS,
  TASK_COLUMNS,
  TRIGGER_COLUMNS,
  applyFilters,
  asciiLower,
  convertProtoFilters,
  escapeLike,
  likePattern,
  makeFilter,
  type ColumnSet,
  type FilterExpr,
  type SqlDialect,
} from "../../../src/repository/list/index.js";
import { compileOnly, thrown } from "./helpers.js";

const COLS: ColumnSet = {
  org: { type: "text" },
  name: { type: "text" },
  status: { type: "text" },
  phase: { type: "int" },
  active: { type: "bool" },
  created_at: { type: "timestamp" },
  labels: { type: "bytes", nullable: true },
};

function pf(field: string, fn: Filter_Function, values: string[]) {
  return create(FilterSchema, { field, function: fn, values });
}

function render(filters: FilterExpr[], dialect: SqlDialect) {
  const qb = compileOnly(dialect).selectFrom("t").selectAll();
  const { sql, parameters } = applyFilters(qb, filters, dialect).compile();
  return { where: sql.replace(/^select \* from "t" where /, ""), parameters };
}

function invalid(fn: () => unknown): string {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(InvalidArgumentError);
  return e.message;
}

describe("convertProtoFilters", () => {
  it("renders EQUAL as column = parameter", () => {
    const filters = convertProtoFilters([pf("org", Filter_Function.EQUAL, ["test-org"])], COLS);
    expect(render(filters, "postgres")).toEqual({ where: '"org" = $1', parameters: ["test-org"] });
    expect(render(filters, "sqlite")).toEqual({ where: '"org" = ?', parameters: ["test-org"] });
  });

  it("renders CONTAINS with the pattern %test% (LIKE on PostgreSQL, instr on SQLite)", () => {
    const filters = convertProtoFilters([pf("name", Filter_Function.CONTAINS, ["test"])], COLS);
    expect(filters).toEqual([{ column: "name", type: "text", op: "contains", values: ["test"] }]);
    expect(likePattern("contains", "test")).toBe("%test%");
    expect(render(filters, "postgres")).toEqual({
      where: `"name" collate "C" like $1 escape '\\'`,
      parameters: ["%test%"],
    });
    expect(render(filters, "sqlite")).toEqual({ where: 'instr("name", ?) > 0', parameters: ["test"] });
  });

  it("renders VALUE_IN as an IN list, also with a single value", () => {
    const two = convertProtoFilters([pf("status", Filter_Function.VALUE_IN, ["active", "pending"])], COLS);
    expect(render(two, "postgres")).toEqual({ where: '"status" in ($1, $2)', parameters: ["active", "pending"] });
    const one = convertProtoFilters([pf("status", Filter_Function.VALUE_IN, ["active"])], COLS);
    expect(render(one, "sqlite")).toEqual({ where: '"status" in (?)', parameters: ["active"] });
  });

  it("ANDs several filters", () => {
    const filters = convertProtoFilters(
      [pf("org", Filter_Function.EQUAL, ["o"]), pf("name", Filter_Function.CONTAINS, ["test"])],
      COLS,
    );
    const { where, parameters } = render(filters, "postgres");
    expect(where).toBe(`"org" = $1 and "name" collate "C" like $2 escape '\\'`);
    expect(parameters).toHaveLength(2);
  });

  it("renders every comparison", () => {
    const cases: [Filter_Function, string][] = [
      [Filter_Function.NOT_EQUAL, '"phase" <> $1'],
      [Filter_Function.GREATER_THAN, '"phase" > $1'],
      [Filter_Function.GREATER_THAN_OR_EQUAL, '"phase" >= $1'],
      [Filter_Function.LESS_THAN, '"phase" < $1'],
      [Filter_Function.LESS_THAN_OR_EQUAL, '"phase" <= $1'],
    ];
    for (const [fn, where] of cases) {
      expect(render(convertProtoFilters([pf("phase", fn, ["4"])], COLS), "postgres")).toEqual({
        where,
        parameters: [4],
      });
    }
    // Text range comparisons are byte-wise on both databases.
    expect(render(convertProtoFilters([pf("name", Filter_Function.GREATER_THAN, ["b"])], COLS), "postgres").where).toBe(
      '"name" collate "C" > $1',
    );
    expect(render(convertProtoFilters([pf("name", Filter_Function.LESS_THAN, ["b"])], COLS), "sqlite").where).toBe(
      '"name" collate binary < ?',
    );
  });

  it("renders the suffix and case-insensitive functions", () => {
    const ends = convertProtoFilters([pf("name", Filter_Function.ENDS_WITH, ["x_"])], COLS);
    expect(render(ends, "postgres")).toEqual({
      where: `"name" collate "C" like $1 escape '\\'`,
      parameters: ["%x\\_"],
    });
    expect(render(ends, "sqlite")).toEqual({
      where: 'substr("name", length("name") - length(?) + 1) = ?',
      parameters: ["x_", "x_"],
    });
    const notEnds = convertProtoFilters([pf("name", Filter_Function.NOT_ENDS_WITH, ["x"])], COLS);
    expect(render(notEnds, "postgres").where).toBe(`"name" collate "C" not like $1 escape '\\'`);
    expect(render(notEnds, "sqlite").where).toBe('substr("name", length("name") - length(?) + 1) <> ?');
    const ci = convertProtoFilters([pf("name", Filter_Function.CONTAINS_CASE_INSENSITIVE, ["AbC%"])], COLS);
    expect(render(ci, "postgres")).toEqual({
      where: `lower("name" collate "C") like $1 escape '\\'`,
      parameters: ["%abc\\%%"],
    });
    expect(render(ci, "sqlite")).toEqual({ where: `lower("name") like ? escape '\\'`, parameters: ["%abc\\%%"] });
  });

  it("binds booleans as 1/0 on SQLite and true/false on PostgreSQL", () => {
    const filters = convertProtoFilters([pf("active", Filter_Function.EQUAL, ["t"])], COLS);
    expect(render(filters, "sqlite").parameters).toEqual([1]);
    expect(render(filters, "postgres").parameters).toEqual([true]);
    const no = convertProtoFilters([pf("active", Filter_Function.EQUAL, ["FALSE"])], COLS);
    expect(render(no, "sqlite").parameters).toEqual([0]);
    expect(render(no, "postgres").parameters).toEqual([false]);
  });

  it("qualifies columns with a table alias", () => {
    const filters = convertProtoFilters([pf("org", Filter_Function.EQUAL, ["o"])], COLS);
    const qb = compileOnly("postgres").selectFrom("t").selectAll();
    expect(applyFilters(qb, filters, "postgres", { table: "t" }).compile().sql).toBe(
      'select * from "t" where "t"."org" = $1',
    );
  });

  it("rejects a column outside the allow-list with 'invalid filter field'", () => {
    const msg = invalid(() => convertProtoFilters([pf("malicious_field", Filter_Function.EQUAL, ["v"])], COLS));
    expect(msg).toContain("invalid filter field: malicious_field");
    expect(msg).toContain("allowed: org, name");
    // Inherited object properties are not columns.
    expect(invalid(() => convertProtoFilters([pf("constructor", Filter_Function.EQUAL, ["v"])], COLS))).toContain(
      "invalid filter field",
    );
  });

  it("gives no filters for an empty or missing list", () => {
    expect(convertProtoFilters([], COLS)).toEqual([]);
    expect(convertProtoFilters(undefined, COLS)).toEqual([]);
  });

  it("rejects unknown functions, missing values and several values for scalar functions", () => {
    expect(invalid(() => convertProtoFilters([pf("name", 8 as Filter_Function, ["x"])], COLS))).toBe(
      "unsupported filter function: 8",
    );
    expect(invalid(() => convertProtoFilters([pf("name", Filter_Function.EQUAL, [])], COLS))).toBe(
      "filter name has no values",
    );
    expect(invalid(() => convertProtoFilters([pf("name", Filter_Function.EQUAL, ["a", "b"])], COLS))).toContain(
      "EQUAL takes exactly one value (got 2)",
    );
    expect(invalid(() => convertProtoFilters([pf("name", Filter_Function.CONTAINS, ["a", "b"])], COLS))).toContain(
      "takes exactly one value",
    );
  });

  it("converts values per column type", () => {
    expect(makeFilter(COLS, "phase", "eq", ["+7"]).values).toEqual([7]);
    expect(makeFilter(COLS, "phase", "eq", ["-3"]).values).toEqual([-3]);
    expect(makeFilter(COLS, "phase", "in", ["9007199254740993"]).values).toEqual([9007199254740993n]);
    expect(invalid(() => makeFilter(COLS, "phase", "eq", ["abc"]))).toBe('filter phase: "abc" is not an integer');
    for (const bad of ["1.5", " 1", "", "1e3", "0x10", "9223372036854775808"]) {
      expect(invalid(() => makeFilter(COLS, "phase", "eq", [bad]))).toContain("is not an integer");
    }
    for (const [text, value] of [
      ["true", true],
      ["T", true],
      ["1", true],
      ["false", false],
      ["f", false],
      ["0", false],
    ] as const) {
      expect(makeFilter(COLS, "active", "eq", [text]).values).toEqual([value]);
    }
    expect(invalid(() => makeFilter(COLS, "active", "eq", ["yes"]))).toContain("is not a boolean");
    expect(makeFilter(COLS, "created_at", "gt", ["2026-01-02T05:04:05.1234567+02:00"]).values).toEqual([
      "2026-01-02T03:04:05.123456Z",
    ]);
    expect(invalid(() => makeFilter(COLS, "created_at", "gt", ["yesterday"]))).toBe(
      'filter created_at: "yesterday" is not an RFC 3339 timestamp',
    );
    expect(makeFilter(COLS, "name", "eq", [" spaced "]).values).toEqual([" spaced "]);
  });

  it("rejects text functions on non-text columns and any filter on binary columns", () => {
    expect(invalid(() => makeFilter(COLS, "phase", "contains", ["1"]))).toContain(
      "CONTAINS applies only to text columns",
    );
    expect(invalid(() => makeFilter(COLS, "created_at", "ends_with", ["Z"]))).toContain("applies only to text");
    expect(invalid(() => makeFilter(COLS, "labels", "eq", ["x"]))).toContain("binary columns cannot be filtered");
  });

  it("escapes LIKE metacharacters", () => {
    expect(escapeLike("50%_\\x")).toBe("50\\%\\_\\\\x");
    expect(likePattern("contains", "50%")).toBe("%50\\%%");
    expect(likePattern("ends_with", "a_b")).toBe("%a\\_b");
    expect(asciiLower("ÉAbZ")).toBe("Éabz");
    expect(likePattern("contains_ci", "ÉAb")).toBe("%Éab%");
  });
});

describe("allow-lists", () => {
  it("leave out trigger_type, which is not a column of actions", () => {
    expect(invalid(() => makeFilter(ACTION_COLUMNS, "trigger_type", "eq", ["x"]))).toContain(
      "invalid filter field: trigger_type",
    );
    expect(Object.keys(ACTION_COLUMNS)).toHaveLength(19);
    expect(ACTION_COLUMNS.created_by_subject).toEqual({ type: "text", nullable: true });
  });

  it("allow action_type on actions (an integer: the ActionType number, as the reference)", () => {
    const f = makeFilter(ACTION_COLUMNS, "action_type", "eq", ["3"]);
    expect([f.column, f.values]).toEqual(["action_type", [3]]);
    expect(invalid(() => makeFilter(ACTION_COLUMNS, "action_type", "eq", ["ACTION_TYPE_CONDITION"]))).toContain("is not an integer");
  });

  it("carry the schema types", () => {
    expect(ACTION_COLUMNS.phase).toEqual({ type: "int" });
    expect(ACTION_COLUMNS.ended_at).toEqual({ type: "timestamp", nullable: true });
    expect(ACTION_COLUMNS.duration_ms).toEqual({ type: "int", nullable: true });
    expect(TASK_COLUMNS.total_triggers).toEqual({ type: "int" });
    expect(TRIGGER_COLUMNS.active).toEqual({ type: "bool" });
    expect(PROJECT_COLUMNS.state).toEqual({ type: "int", nullable: true });
    expect(Object.keys(PROJECT_COLUMNS)).toEqual([
      "identifier",
      "name",
      "description",
      "labels",
      "state",
      "created_at",
      "updated_at",
    ]);
  });
});

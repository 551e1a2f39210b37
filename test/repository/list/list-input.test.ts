import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import {
  FilterSchema,
  Filter_Function,
  ListRequestSchema,
  SortSchema,
  Sort_Direction,
} from "#gen/flyteidl2/common/list_pb.js";
import { InvalidArgumentError } from "../../../src/repository/errors.js";
import {
  PROJECT_COLUMNS,
  TASK_COLUMNS,
  describeSort,
  parseListRequest,
  parseSort,
  parseStringFilters,
  resolveLimit,
  type ColumnSet,
} from "../../../src/repository/list/index.js";
import { thrown } from "./helpers.js";

function invalid(fn: () => unknown): string {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(InvalidArgumentError);
  return e.message;
}

const sortReq = (...sorts: [string, Sort_Direction][]) =>
  create(ListRequestSchema, { sortByFields: sorts.map(([key, direction]) => create(SortSchema, { key, direction })) });

describe("parseSort", () => {
  const cols: ColumnSet = { created_at: { type: "timestamp" }, name: { type: "text" }, version: { type: "text" } };

  it("reads a single field", () => {
    const sort = parseSort(sortReq(["created_at", Sort_Direction.DESCENDING]), cols);
    expect(sort).toEqual([{ column: "created_at", direction: "desc" }]);
    expect(describeSort(sort[0])).toBe("created_at DESC");
  });

  it("keeps the order of several fields", () => {
    const sort = parseSort(
      sortReq(["name", Sort_Direction.ASCENDING], ["version", Sort_Direction.DESCENDING]),
      cols,
    );
    expect(sort.map(describeSort)).toEqual(["name ASC", "version DESC"]);
  });

  it("rejects a field outside the allow-list", () => {
    expect(invalid(() => parseSort(sortReq(["invalid_field", Sort_Direction.ASCENDING]), cols))).toContain(
      "invalid sort field: invalid_field",
    );
  });

  it("gives no sort for a missing request or empty fields", () => {
    expect(parseSort(undefined, cols)).toEqual([]);
    expect(parseSort(create(ListRequestSchema, {}), cols)).toEqual([]);
  });

  it("falls back to the deprecated sort_by when its key is set", () => {
    const legacy = create(ListRequestSchema, { sortBy: create(SortSchema, { key: "name", direction: Sort_Direction.ASCENDING }) });
    expect(parseSort(legacy, cols)).toEqual([{ column: "name", direction: "asc" }]);
    const emptyKey = create(ListRequestSchema, { sortBy: create(SortSchema, { key: "" }) });
    expect(parseSort(emptyKey, cols)).toEqual([]);
    const both = create(ListRequestSchema, {
      sortBy: create(SortSchema, { key: "name" }),
      sortByFields: [create(SortSchema, { key: "version", direction: Sort_Direction.ASCENDING })],
    });
    expect(parseSort(both, cols)).toEqual([{ column: "version", direction: "asc" }]);
    // Anything but ASCENDING is descending.
    expect(parseSort(sortReq(["name", 7 as Sort_Direction]), cols)[0].direction).toBe("desc");
  });
});

describe("parseListRequest", () => {
  it("treats a missing request as empty with the default limit", () => {
    expect(parseListRequest(undefined, TASK_COLUMNS)).toEqual({ limit: 50, token: "", filters: [], sort: [] });
    expect(parseListRequest(create(ListRequestSchema, {}), TASK_COLUMNS).limit).toBe(50);
  });

  it("validates the limit", () => {
    expect(parseListRequest(create(ListRequestSchema, { limit: 200 }), TASK_COLUMNS).limit).toBe(200);
    expect(parseListRequest(create(ListRequestSchema, { limit: 1 }), TASK_COLUMNS).limit).toBe(1);
    expect(invalid(() => parseListRequest(create(ListRequestSchema, { limit: 250 }), TASK_COLUMNS))).toBe(
      "invalid limit: 250 (exceeds maximum of 200)",
    );
    expect(invalid(() => resolveLimit(-1))).toContain("invalid limit: -1");
    expect(resolveLimit(0, { defaultLimit: 10 })).toBe(10);
    expect(resolveLimit(300, { maxLimit: Infinity })).toBe(300);
  });

  it("reads limit 0 as 'everything' for ListProjects", () => {
    const input = parseListRequest(create(ListRequestSchema, { limit: 0 }), PROJECT_COLUMNS, {
      zeroLimitMeansAll: true,
    });
    expect(input.limit).toBeUndefined();
  });

  it("copies the token and converts filters and sort", () => {
    const req = create(ListRequestSchema, {
      token: "abc",
      filters: [create(FilterSchema, { field: "total_triggers", function: Filter_Function.GREATER_THAN, values: ["2"] })],
      sortByFields: [create(SortSchema, { key: "name", direction: Sort_Direction.ASCENDING })],
      rawFilters: ["ignored"],
    });
    expect(parseListRequest(req, TASK_COLUMNS)).toEqual({
      limit: 50,
      token: "abc",
      filters: [{ column: "total_triggers", type: "int", op: "gt", values: [2] }],
      sort: [{ column: "name", direction: "asc" }],
    });
  });

  it("reports bad filters and sort as InvalidArgumentError", () => {
    const badFilter = create(ListRequestSchema, {
      filters: [create(FilterSchema, { field: "total_triggers", function: Filter_Function.EQUAL, values: ["abc"] })],
    });
    expect(invalid(() => parseListRequest(badFilter, TASK_COLUMNS))).toBe(
      'filter total_triggers: "abc" is not an integer',
    );
    const badSort = create(ListRequestSchema, { sortByFields: [create(SortSchema, { key: "task_spec" })] });
    expect(invalid(() => parseListRequest(badSort, TASK_COLUMNS))).toContain("invalid sort field: task_spec");
  });
});

describe("parseStringFilters", () => {
  it("parses eq(state,1) with an integer value", () => {
    expect(parseStringFilters("eq(state,1)", PROJECT_COLUMNS)).toEqual([
      { column: "state", type: "int", op: "eq", values: [1] },
    ]);
  });

  it("parses value_in(state,0;1;2)", () => {
    expect(parseStringFilters("value_in(state,0;1;2)", PROJECT_COLUMNS)).toEqual([
      { column: "state", type: "int", op: "in", values: [0, 1, 2] },
    ]);
    expect(parseStringFilters("value_in(state, 0 ; 2 )", PROJECT_COLUMNS)[0].values).toEqual([0, 2]);
  });

  it("joins expressions with +, ignores function case and trims", () => {
    expect(parseStringFilters(" EQ( name , my proj )+ne(name,x)+Contains(description,a,b) ", PROJECT_COLUMNS)).toEqual([
      { column: "name", type: "text", op: "eq", values: ["my proj"] },
      { column: "name", type: "text", op: "ne", values: ["x"] },
      { column: "description", type: "text", op: "contains", values: ["a,b"] },
    ]);
  });

  it("gives no filters for an empty string", () => {
    expect(parseStringFilters("", PROJECT_COLUMNS)).toEqual([]);
    expect(parseStringFilters("   ", PROJECT_COLUMNS)).toEqual([]);
    expect(parseStringFilters(undefined, PROJECT_COLUMNS)).toEqual([]);
  });

  it("rejects malformed expressions", () => {
    expect(invalid(() => parseStringFilters("eq state 1", PROJECT_COLUMNS))).toContain("invalid filter format");
    expect(invalid(() => parseStringFilters("(state,1)", PROJECT_COLUMNS))).toContain("invalid filter format");
    expect(invalid(() => parseStringFilters("eq(state,1) x", PROJECT_COLUMNS))).toContain("invalid filter format");
    expect(invalid(() => parseStringFilters("eq(state,1)++eq(state,2)", PROJECT_COLUMNS))).toContain(
      "invalid filter format",
    );
    expect(invalid(() => parseStringFilters("eq(state)", PROJECT_COLUMNS))).toContain("invalid filter arguments");
    expect(invalid(() => parseStringFilters("gt(state,1)", PROJECT_COLUMNS))).toContain(
      "unsupported filter function: gt",
    );
    expect(invalid(() => parseStringFilters("eq(owner,1)", PROJECT_COLUMNS))).toContain("invalid filter field: owner");
    expect(invalid(() => parseStringFilters("eq(state,one)", PROJECT_COLUMNS))).toBe(
      'filter state: "one" is not an integer',
    );
  });
});

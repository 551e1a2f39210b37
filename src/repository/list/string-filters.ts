/**
 * The compact filter language of ListProjects:
 *   eq(state,1)+value_in(state,0;1;2)+ne(name,x)+contains(name,y)
 * Expressions are joined by "+", each is fn(field,value) with a
 * case-insensitive function name; the arguments split on the first comma,
 * field and value are trimmed, value_in values are separated by ";".
 * A "+" can therefore not appear inside a value (as in the reference).
 */
import { InvalidArgumentError } from "../errors.js";
import type { ColumnSet } from "./columns.js";
import { assertFilterField, makeFilter, type FilterExpr, type FilterOp } from "./filters.js";

const FUNCTIONS: ReadonlyMap<string, FilterOp> = new Map([
  ["eq", "eq"],
  ["ne", "ne"],
  ["contains", "contains"],
  ["value_in", "in"],
]);

/** Parses the DSL into ANDed filters; an empty or blank string gives none. */
export function parseStringFilters(text: string | undefined, columns: ColumnSet): FilterExpr[] {
  const whole = (text ?? "").trim();
  if (whole === "") return [];
  return whole.split("+").map((part) => parseOne(part.trim(), columns));
}

function parseOne(expr: string, columns: ColumnSet): FilterExpr {
  const open = expr.indexOf("(");
  const close = expr.lastIndexOf(")");
  if (open <= 0 || close !== expr.length - 1) {
    throw new InvalidArgumentError(`invalid filter format: ${JSON.stringify(expr)} (expected fn(field,value))`);
  }
  const fnName = expr.slice(0, open).trim().toLowerCase();
  const args = expr.slice(open + 1, close);
  const comma = args.indexOf(",");
  if (comma < 0) {
    throw new InvalidArgumentError(`invalid filter arguments: ${JSON.stringify(expr)} (expected fn(field,value))`);
  }
  const field = args.slice(0, comma).trim();
  const value = args.slice(comma + 1).trim();
  const op = FUNCTIONS.get(fnName);
  if (op === undefined) {
    // The field is checked first, as in the reference.
    assertFilterField(columns, field);
    throw new InvalidArgumentError(
      `unsupported filter function: ${fnName} (supported: ${[...FUNCTIONS.keys()].join(", ")})`,
    );
  }
  const values = op === "in" ? value.split(";").map((v) => v.trim()) : [value];
  return makeFilter(columns, field, op, values);
}

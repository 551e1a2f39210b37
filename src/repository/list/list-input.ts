/** ListRequest ⇒ validated list input (limit, token, filters, sort). */
import type { ListRequest } from "#gen/flyteidl2/common/list_pb.js";
import { InvalidArgumentError } from "../errors.js";
import type { ColumnSet } from "./columns.js";
import { convertProtoFilters, type FilterExpr } from "./filters.js";
import { parseSort, type SortParam } from "./sorting.js";

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 200;

export interface ListInput {
  /** Page size; undefined ⇒ no limit (only with zeroLimitMeansAll). */
  readonly limit: number | undefined;
  /** Opaque page token ("" ⇒ first page); checked by the paginator. */
  readonly token: string;
  /** ANDed. */
  readonly filters: FilterExpr[];
  /** Requested order; empty ⇒ the list's default order. */
  readonly sort: SortParam[];
}

export interface ListInputOptions {
  /** Used when the request's limit is 0 (default 50). */
  defaultLimit?: number;
  /** Largest accepted limit (default 200; Infinity for none). */
  maxLimit?: number;
  /** Limit 0 means "everything" instead of defaultLimit (ListProjects). */
  zeroLimitMeansAll?: boolean;
}

/** Validates a page size; 0 ⇒ default (or no limit). */
export function resolveLimit(raw: number | undefined, opts: ListInputOptions = {}): number | undefined {
  const max = opts.maxLimit ?? MAX_LIST_LIMIT;
  const value = raw ?? 0;
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`invalid limit: ${value} (must be a non-negative integer)`);
  }
  if (value === 0) return opts.zeroLimitMeansAll ? undefined : (opts.defaultLimit ?? DEFAULT_LIST_LIMIT);
  if (value > max) throw new InvalidArgumentError(`invalid limit: ${value} (exceeds maximum of ${max})`);
  return value;
}

/**
 * Reads a ListRequest (undefined ⇒ empty) against a column allow-list. Every
 * problem is an InvalidArgumentError. `raw_filters` is ignored.
 */
export function parseListRequest(
  req: ListRequest | undefined,
  columns: ColumnSet,
  opts: ListInputOptions = {},
): ListInput {
  const limit = resolveLimit(req?.limit, opts);
  const sort = parseSort(req, columns);
  const filters = convertProtoFilters(req?.filters, columns);
  return { limit, token: req?.token ?? "", filters, sort };
}

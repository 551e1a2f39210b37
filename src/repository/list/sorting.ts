/**
 * Sort parameters of a list request: `sort_by_fields` in order, else the
 * deprecated `sort_by` when its key is set. Keys must be allow-listed.
 */
import type { ListRequest, Sort } from "#gen/flyteidl2/common/list_pb.js";
import { Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import { InvalidArgumentError } from "../errors.js";
import { columnNames, lookupColumn, type ColumnSet } from "./columns.js";

export type SortDirection = "asc" | "desc";

export interface SortParam {
  readonly column: string;
  readonly direction: SortDirection;
}

/** Reads the sort of a request (empty when it has none). */
export function parseSort(req: ListRequest | undefined, columns: ColumnSet): SortParam[] {
  if (!req) return [];
  let fields: readonly Sort[] = req.sortByFields ?? [];
  if (fields.length === 0) {
    const legacy = req.sortBy;
    if (legacy && legacy.key !== "") fields = [legacy];
  }
  return fields.map((s) => {
    if (!lookupColumn(columns, s.key)) {
      throw new InvalidArgumentError(
        `invalid sort field: ${s.key} (allowed: ${columnNames(columns).join(", ")})`,
      );
    }
    return { column: s.key, direction: s.direction === Sort_Direction.ASCENDING ? "asc" : "desc" };
  });
}

/** "name ASC" — a readable rendering, used in tests and logs. */
export function describeSort(param: SortParam): string {
  return `${param.column} ${param.direction.toUpperCase()}`;
}

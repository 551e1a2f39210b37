import { create } from "@bufbuild/protobuf";
import { ListRequestSchema } from "#gen/flyteidl2/common/list_pb.js";
import type { ListProjectsRequest } from "#gen/flyteidl2/project/project_service_pb.js";
import { ProjectState } from "#gen/flyteidl2/project/project_service_pb.js";
import { PROJECT_COLUMNS } from "./columns.js";
import { makeFilter } from "./filters.js";
import { resolveLimit, type ListInput } from "./list-input.js";
import { parseSort } from "./sorting.js";
import { parseStringFilters } from "./string-filters.js";

/**
 * ListProjectsRequest has its own shape (a filter string, one sort key):
 * limit 0 lists everything and there is no maximum, as in the reference;
 * without filters ARCHIVED projects are hidden (`state != 1`), with any
 * filter nothing is implied.
 */
export function projectListRequest(req: ListProjectsRequest): ListInput {
  const filters = req.filters.trim()
    ? parseStringFilters(req.filters, PROJECT_COLUMNS)
    : [makeFilter(PROJECT_COLUMNS, "state", "ne", [String(ProjectState.ARCHIVED)])];
  return {
    limit: resolveLimit(req.limit, { zeroLimitMeansAll: true, maxLimit: Infinity }),
    token: req.token,
    filters,
    sort: parseSort(create(ListRequestSchema, { sortBy: req.sortBy }), PROJECT_COLUMNS),
  };
}

/** List machinery shared by every list RPC: allow-lists, request parsing, filters, keyset pagination. */
export * from "./columns.js";
export * from "./values.js";
export * from "./sorting.js";
export * from "./filters.js";
export * from "./string-filters.js";
export * from "./list-input.js";
export * from "./page-token.js";
export * from "./paginate.js";
export { columnRef, orderedExpr } from "./sql.js";

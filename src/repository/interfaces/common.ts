export type { ListInput as PageRequest } from "../list/list-input.js";
export type { Page } from "../list/paginate.js";

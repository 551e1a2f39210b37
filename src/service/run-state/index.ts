/** The per-stream action tree of WatchActions (pure, synchronous). */
export * from "./filters.js";
export * from "./run-state-manager.js";
export * from "./types.js";

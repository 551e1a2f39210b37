/**
 * The six Watch* streams of RunService. Each is an async generator that
 * subscribes to the event bus before its first read, sends a snapshot, then
 * follows changes until it is done, the client cancels or the server shuts
 * down (ctx.signal), and always releases its subscription.
 */
import type { RunServiceHandlers } from "./index.js";
import { watchActionsHandlers } from "./watch-actions.js";
import { watchClusterEventsHandlers } from "./watch-cluster-events.js";
import { watchDetailsHandlers } from "./watch-details.js";
import { watchGroupsHandlers } from "./watch-groups.js";
import { watchRunsHandlers } from "./watch-runs.js";
import type { WatchDeps } from "./watch-support.js";

export type { WatchDeps, WatchOptions } from "./watch-support.js";
export { DEFAULT_WATCH_OPTIONS } from "./watch-support.js";

export function createWatchHandlers(
  deps: WatchDeps,
): Pick<RunServiceHandlers, "watchRuns" | "watchRunDetails" | "watchActions" | "watchActionDetails" | "watchClusterEvents" | "watchGroups"> {
  return {
    ...watchRunsHandlers(deps),
    ...watchDetailsHandlers(deps),
    ...watchActionsHandlers(deps),
    ...watchClusterEventsHandlers(deps),
    ...watchGroupsHandlers(deps),
  };
}

/**
 * The action repository: runs (root actions), actions and their events.
 * Split by concern into action-read / action-write / action-events /
 * action-abort; every write publishes on the EventBus after it commits.
 */
import type { EventBus } from "../../events/bus.js";
import type { Clock } from "../../util/clock.js";
import type { DatabaseHandle } from "../dialect/index.js";
import type { ActionRepo } from "../interfaces/action.js";
import { createActionAborts } from "./action-abort.js";
import { createActionBatchWrites } from "./action-batch.js";
import { createActionEventMethods } from "./action-events.js";
import { createActionReads } from "./action-read.js";
import { createActionStateReads } from "./action-states.js";
import { createActionWrites } from "./action-write.js";

export { ROOT_ACTION_NAME, earlierStart, endFields, phaseUpdateAllowed } from "./action-write.js";

export function createActionRepo(handle: DatabaseHandle, clock: Clock, bus: EventBus): ActionRepo {
  return {
    ...createActionReads(handle),
    ...createActionStateReads(handle),
    ...createActionWrites(handle, clock, bus),
    ...createActionBatchWrites(handle, clock, bus),
    ...createActionEventMethods(handle, clock, bus),
    ...createActionAborts(handle, clock, bus),
  };
}

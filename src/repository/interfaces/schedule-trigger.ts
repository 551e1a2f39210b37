import type { TriggerRow } from "../schema/index.js";

/** What the trigger scheduler reads: the triggers it has to run. */
export interface ScheduleTriggerSource {
  /**
   * Every live (not deleted), active trigger whose automation type is
   * TYPE_SCHEDULE, ordered by project, domain, task name and name (a stable
   * order, the same on every replica). No limit.
   */
  listActiveSchedules(): Promise<TriggerRow[]>;
}

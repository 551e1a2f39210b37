import type { DatabaseHandle } from "../dialect/index.js";
import type { ScheduleTriggerSource } from "../interfaces/schedule-trigger.js";

export function createScheduleTriggerSource(h: DatabaseHandle): ScheduleTriggerSource {
  return {
    listActiveSchedules() {
      return h.db
        .selectFrom("triggers")
        .selectAll()
        .where("deleted_at", "is", null)
        .where("active", "=", h.bool(true))
        .where("automation_type", "=", "TYPE_SCHEDULE")
        .orderBy("project")
        .orderBy("domain")
        .orderBy("task_name")
        .orderBy("name")
        .execute();
    },
  };
}

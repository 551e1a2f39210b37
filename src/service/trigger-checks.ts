import type { TriggerAutomationSpec } from "#gen/flyteidl2/task/common_pb.js";
import { InvalidArgumentError } from "../repository/errors.js";
import { automationSchedule, InvalidScheduleError } from "../scheduler/automation.js";

/**
 * Validates a trigger's schedule before anything is stored: its cron (either
 * form, with its zone) must parse with the scheduler's grammar and a fixed
 * rate must have a positive value and a known unit. InvalidArgumentError
 * naming the trigger otherwise.
 */
export function checkTriggerAutomation(triggerName: string, spec: TriggerAutomationSpec | undefined): void {
  try {
    automationSchedule(spec);
  } catch (error) {
    if (!(error instanceof InvalidScheduleError)) throw error;
    const name = JSON.stringify(triggerName);
    switch (error.kind) {
      case "cron":
        throw new InvalidArgumentError(`trigger ${name} has invalid cron expression: ${error.reason}`);
      case "rate":
        throw new InvalidArgumentError(`trigger ${name} has invalid fixed rate: ${error.reason}`);
      default:
        throw new InvalidArgumentError(`trigger ${name} has invalid schedule: ${error.reason}`);
    }
  }
}

/**
 * What a trigger's automation spec schedules: a cron schedule (structured
 * `cron` with its zone, or the deprecated `cron_expression`), a fixed rate,
 * or nothing. Used to validate triggers at deploy time and, later, by the
 * scheduler.
 */
import {
  FixedRateUnit,
  TriggerAutomationSpecType,
  type FixedRate,
  type Schedule,
  type TriggerAutomationSpec,
} from "#gen/flyteidl2/task/common_pb.js";
import { cronSpec, parseCron, type CronSchedule } from "./cron.js";

export type TriggerSchedule =
  | { readonly kind: "cron"; readonly spec: string; readonly schedule: CronSchedule }
  | { readonly kind: "rate"; readonly intervalMs: number; readonly rate: FixedRate };

/** Why a trigger's schedule cannot be used; `reason` is the part after the trigger name. */
export class InvalidScheduleError extends Error {
  override name = "InvalidScheduleError";
  constructor(readonly reason: string, readonly kind: "cron" | "rate" | "schedule") {
    super(reason);
  }
}

const UNIT_MS: Partial<Record<FixedRateUnit, number>> = {
  [FixedRateUnit.MINUTE]: 60_000,
  [FixedRateUnit.HOUR]: 3_600_000,
  [FixedRateUnit.DAY]: 86_400_000,
};

/** The interval of a fixed rate; throws InvalidScheduleError for value 0 or an unknown unit. */
export function fixedRateIntervalMs(rate: FixedRate): number {
  if (rate.value === 0) throw new InvalidScheduleError("fixed rate value must be greater than 0", "rate");
  const unit = UNIT_MS[rate.unit];
  if (unit === undefined) {
    const name = FixedRateUnit[rate.unit] ?? String(rate.unit);
    throw new InvalidScheduleError(`fixed rate unit ${name} is not supported (use MINUTE, HOUR or DAY)`, "rate");
  }
  return rate.value * unit;
}

/** The cron spec text of a schedule (zone prefix included), undefined for a rate. */
export function scheduleCronSpec(schedule: Schedule): string | undefined {
  switch (schedule.expression.case) {
    case "cron":
      return cronSpec(schedule.expression.value.expression, schedule.expression.value.timezone);
    case "cronExpression":
      return schedule.expression.value;
    default:
      return undefined;
  }
}

/**
 * Resolves a schedule. Throws InvalidScheduleError when its cron does not
 * parse, its rate is unusable, or it names neither.
 */
export function resolveSchedule(schedule: Schedule): TriggerSchedule {
  const expr = schedule.expression;
  switch (expr.case) {
    case "cron":
    case "cronExpression": {
      const spec = scheduleCronSpec(schedule)!;
      try {
        return { kind: "cron", spec, schedule: parseCron(spec) };
      } catch (error) {
        throw new InvalidScheduleError(`${JSON.stringify(spec)}: ${(error as Error).message}`, "cron");
      }
    }
    case "rate":
      return { kind: "rate", intervalMs: fixedRateIntervalMs(expr.value), rate: expr.value };
    default:
      throw new InvalidScheduleError("schedule has neither a cron expression nor a fixed rate", "schedule");
  }
}

/** The schedule of an automation spec, undefined when it schedules nothing. */
export function automationSchedule(spec: TriggerAutomationSpec | undefined): TriggerSchedule | undefined {
  if (!spec || spec.automation.case !== "schedule") return undefined;
  return resolveSchedule(spec.automation.value);
}

/** The type the reference stores: TYPE_SCHEDULE when a schedule is present, TYPE_NONE otherwise. */
export function automationType(spec: TriggerAutomationSpec | undefined): TriggerAutomationSpecType {
  return spec?.automation.case === "schedule" ? TriggerAutomationSpecType.TYPE_SCHEDULE : TriggerAutomationSpecType.TYPE_NONE;
}

/**
 * What a run fired from a trigger carries from the trigger itself: the run
 * spec and inputs stored with it at deploy (TriggerSpec.run_spec / inputs),
 * with the fire time in the input named by the schedule's
 * `kickoff_time_input_arg`. Used by CreateRun with `trigger_name` (every
 * caller: the scheduler, the UI's "run now", the CLI) and by the scheduler.
 */
import { clone, create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { LiteralSchema } from "#gen/flyteidl2/core/literals_pb.js";
import { InputsSchema, NamedLiteralSchema, TriggerAutomationSpecSchema, type Inputs } from "#gen/flyteidl2/task/common_pb.js";
import { RunSpecSchema, type RunSpec } from "#gen/flyteidl2/task/run_pb.js";
import { TriggerSpecSchema } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import type { TriggerRow } from "../../repository/schema/index.js";

/** The slot time as a datetime literal named `name`. */
export function kickoffLiteral(name: string, slotMs: number) {
  return create(NamedLiteralSchema, {
    name,
    value: create(LiteralSchema, {
      value: {
        case: "scalar",
        value: { value: { case: "primitive", value: { value: { case: "datetime", value: timestampFromMs(slotMs) } } } },
      },
    }),
  });
}

/**
 * The trigger's inputs with the kickoff literal set (replacing a literal of
 * the same name in place, else appended); undefined when the trigger has
 * neither inputs nor a kickoff argument (CreateRun then uses the task's
 * defaults, as for any run without inputs).
 */
export function scheduledInputs(stored: Inputs | undefined, kickoffArg: string, slotMs: number): Inputs | undefined {
  if (!stored && kickoffArg === "") return undefined;
  const inputs = stored ? clone(InputsSchema, stored) : create(InputsSchema);
  if (kickoffArg !== "") {
    const literal = kickoffLiteral(kickoffArg, slotMs);
    const at = inputs.literals.findIndex((l) => l.name === kickoffArg);
    if (at >= 0) inputs.literals[at] = literal;
    else inputs.literals.push(literal);
  }
  return inputs;
}

/** The name of the input that receives the fire time, "" when none. */
export function kickoffTimeInputArg(row: Pick<TriggerRow, "automation_spec">): string {
  if (!row.automation_spec || row.automation_spec.length === 0) return "";
  try {
    const spec = fromBinary(TriggerAutomationSpecSchema, row.automation_spec);
    return spec.automation.case === "schedule" ? spec.automation.value.kickoffTimeInputArg : "";
  } catch {
    return "";
  }
}

export interface TriggerRunDefaults {
  /** The run spec stored with the trigger, if any. */
  runSpec: RunSpec | undefined;
  /** The stored inputs with the fire time set (see scheduledInputs). */
  inputs: Inputs | undefined;
}

/** What a run of `row` fired at `fireMs` carries when its request brings nothing else. Throws when the stored spec does not decode. */
export function triggerRunDefaults(row: Pick<TriggerRow, "spec" | "automation_spec">, fireMs: number): TriggerRunDefaults {
  const spec = fromBinary(TriggerSpecSchema, row.spec);
  return {
    runSpec: spec.runSpec ? clone(RunSpecSchema, spec.runSpec) : undefined,
    inputs: scheduledInputs(spec.inputs, kickoffTimeInputArg(row), fireMs),
  };
}

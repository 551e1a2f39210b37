/**
 * The CreateRunRequest the scheduler sends for one slot of a trigger. Same
 * shape as the reference's scheduler request — run_id (trigger project,
 * domain, deterministic name), trigger_name, source
 * RUN_SOURCE_SCHEDULE_TRIGGER, and the slot time in the input named by
 * `kickoff_time_input_arg` — plus what the reference forgot: the trigger's
 * own stored inputs and run spec (TriggerSpec.inputs / run_spec).
 */
import { clone, create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { LiteralSchema } from "#gen/flyteidl2/core/literals_pb.js";
import { InputsSchema, NamedLiteralSchema, type Inputs } from "#gen/flyteidl2/task/common_pb.js";
import { RunSpecSchema } from "#gen/flyteidl2/task/run_pb.js";
import { TriggerSpecSchema } from "#gen/flyteidl2/trigger/trigger_definition_pb.js";
import { RunSource } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { CreateRunRequestSchema, type CreateRunRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { TriggerRow } from "../repository/schema/index.js";
import { scheduledRunName } from "./run-name.js";
import { kickoffTimeInputArg } from "./timeline.js";

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

/** The request for `row`'s run at `slotMs`. Throws when the stored trigger spec does not decode. */
export function scheduledRunRequest(row: TriggerRow, slotMs: number): CreateRunRequest {
  const spec = fromBinary(TriggerSpecSchema, row.spec);
  const name = scheduledRunName({ project: row.project, domain: row.domain, taskName: row.task_name, name: row.name }, new Date(slotMs));
  const inputs = scheduledInputs(spec.inputs, kickoffTimeInputArg(row), slotMs);
  return create(CreateRunRequestSchema, {
    id: { case: "runId", value: { org: "", project: row.project, domain: row.domain, name } },
    task: { case: "triggerName", value: { org: "", project: row.project, domain: row.domain, name: row.name, taskName: row.task_name } },
    inputWrapper: inputs ? { case: "inputs", value: inputs } : { case: undefined },
    runSpec: spec.runSpec ? clone(RunSpecSchema, spec.runSpec) : undefined,
    source: RunSource.SCHEDULE_TRIGGER,
  });
}

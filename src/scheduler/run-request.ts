/**
 * The CreateRunRequest the scheduler sends for one slot of a trigger. Same
 * shape as the reference's scheduler request — run_id (trigger project,
 * domain, deterministic name), trigger_name, source
 * RUN_SOURCE_SCHEDULE_TRIGGER, and the slot time in the input named by
 * `kickoff_time_input_arg` — plus the trigger's own stored inputs and run
 * spec (TriggerSpec.inputs / run_spec), which CreateRun would also restore
 * by itself (see ../service/run-service/trigger-run.ts); sending them keeps
 * the slot time, not the CreateRun time, in the kickoff input.
 */
import { create } from "@bufbuild/protobuf";
import { RunSource } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { CreateRunRequestSchema, type CreateRunRequest } from "#gen/flyteidl2/workflow/run_service_pb.js";
import type { TriggerRow } from "../repository/schema/index.js";
import { scheduledRunName } from "./run-name.js";
import { triggerRunDefaults } from "../service/run-service/trigger-run.js";

export { kickoffLiteral, scheduledInputs } from "../service/run-service/trigger-run.js";

/** The request for `row`'s run at `slotMs`. Throws when the stored trigger spec does not decode. */
export function scheduledRunRequest(row: TriggerRow, slotMs: number): CreateRunRequest {
  const { runSpec, inputs } = triggerRunDefaults(row, slotMs);
  const name = scheduledRunName({ project: row.project, domain: row.domain, taskName: row.task_name, name: row.name }, new Date(slotMs));
  return create(CreateRunRequestSchema, {
    id: { case: "runId", value: { org: "", project: row.project, domain: row.domain, name } },
    task: { case: "triggerName", value: { org: "", project: row.project, domain: row.domain, name: row.name, taskName: row.task_name } },
    inputWrapper: inputs ? { case: "inputs", value: inputs } : { case: undefined },
    runSpec,
    source: RunSource.SCHEDULE_TRIGGER,
  });
}

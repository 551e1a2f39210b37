/** RecordActionEvents: per-attempt events of actions; an event whose key is stored already is ignored. */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RecordActionEventsResponseSchema } from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import type { ActionEvent } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { actionEventToRow } from "../../repository/transformers/action-events.js";
import { actionKeyOf } from "../run-service/index.js";
import { outcome, type InternalRunServiceDeps, type InternalRunServiceHandlers } from "./index.js";

/** Stores a batch of events (all checked before any is written); throws on failure. */
export function recordEventsCore(deps: InternalRunServiceDeps): (events: readonly ActionEvent[]) => Promise<void> {
  return async (events) => {
    events.forEach((event, i) => checkEvent(event, `events[${i}]`));
    if (events.length === 0) return;
    const now = deps.clock.now();
    await deps.actions.insertEvents(events.map((event) => actionEventToRow(event, now)));
  };
}

/** Throws InvalidArgument when the event has no valid action id or attempt 0 (`path` names it in the message). */
export function checkEvent(event: ActionEvent, path: string): void {
  actionKeyOf(event.id, `${path}.id`);
  if (event.attempt === 0) throw new ConnectError(`${path}.attempt must be greater than 0`, Code.InvalidArgument);
}

export function recordEventsHandlers(deps: InternalRunServiceDeps): Pick<InternalRunServiceHandlers, "recordActionEvents"> {
  const record = recordEventsCore(deps);
  return {
    async recordActionEvents(req) {
      const status = await outcome(() => record(req.events), deps, "InternalRunService/RecordActionEvents");
      return create(RecordActionEventsResponseSchema, { status });
    },
  };
}

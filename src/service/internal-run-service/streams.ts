/**
 * The bidi variants: one reply per request, in order, echoing the nonce
 * where the messages have one. A bad or failing item is answered with its
 * Status and the stream goes on; only transport errors end it. On shutdown
 * each stream finishes the item in hand, answers it, and ends with status OK
 * (see ./until-aborted.ts), so executors reconnect instead of seeing an error.
 */
import { create } from "@bufbuild/protobuf";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  RecordActionEventResponseSchema,
  RecordActionEventStreamRequestSchema,
  RecordActionEventStreamResponseSchema,
  RecordActionResponseSchema,
  RecordActionStreamRequestSchema,
  RecordActionStreamResponseSchema,
  UpdateActionStatusResponseSchema,
  UpdateActionStatusStreamRequestSchema,
  UpdateActionStatusStreamResponseSchema,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { checkMessage } from "../../server/interceptors/validation.js";
import { outcome, type InternalRunServiceDeps, type InternalRunServiceHandlers } from "./index.js";
import { recordActionCore } from "./record-action.js";
import { recordEventsCore } from "./record-events.js";
import { untilAborted } from "./until-aborted.js";
import { updateStatusCore } from "./update-status.js";

function required<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw new ConnectError(`${path} is required`, Code.InvalidArgument);
  return value;
}

export function streamHandlers(
  deps: InternalRunServiceDeps,
  validator: Validator = createValidator(),
): Pick<InternalRunServiceHandlers, "recordActionStream" | "updateActionStatusStream" | "recordActionEventStream"> {
  const recordAction = recordActionCore(deps);
  const updateStatus = updateStatusCore(deps);
  const recordEvents = recordEventsCore(deps);

  return {
    async *recordActionStream(requests, ctx) {
      for await (const item of untilAborted(requests, ctx.signal)) {
        const status = await outcome(
          async () => {
            checkMessage(validator, RecordActionStreamRequestSchema, item);
            await recordAction(required(item.request, "request"));
          },
          deps,
          "InternalRunService/RecordActionStream",
        );
        yield create(RecordActionStreamResponseSchema, {
          response: create(RecordActionResponseSchema, { actionId: item.request?.actionId, status }),
        });
      }
    },

    async *updateActionStatusStream(requests, ctx) {
      for await (const item of untilAborted(requests, ctx.signal)) {
        const status = await outcome(
          async () => {
            checkMessage(validator, UpdateActionStatusStreamRequestSchema, item);
            await updateStatus(required(item.request, "request"));
          },
          deps,
          "InternalRunService/UpdateActionStatusStream",
        );
        yield create(UpdateActionStatusStreamResponseSchema, {
          response: create(UpdateActionStatusResponseSchema, { actionId: item.request?.actionId, status }),
          nonce: item.nonce,
        });
      }
    },

    async *recordActionEventStream(requests, ctx) {
      for await (const item of untilAborted(requests, ctx.signal)) {
        const event = item.request?.event;
        const status = await outcome(
          async () => {
            checkMessage(validator, RecordActionEventStreamRequestSchema, item);
            await recordEvents([required(event, "request.event")]);
          },
          deps,
          "InternalRunService/RecordActionEventStream",
        );
        yield create(RecordActionEventStreamResponseSchema, {
          response: create(RecordActionEventResponseSchema, { actionId: event?.id, status }),
          nonce: item.nonce,
        });
      }
    },
  };
}

/**
 * The bidi variants: one reply per request, in order, echoing the nonce
 * where the messages have one. A bad or failing item is answered with its
 * Status and the stream goes on; only transport errors end it.
 *
 * Items are written in batches (see stream-batches.ts): the items a client
 * has sent while the previous batch was being written share one transaction
 * and one round of notifications. Each item is checked on its own first; a
 * batch whose write fails is written again item by item, so every item gets
 * the outcome it would have had alone. Replies go out after the commit.
 *
 * On shutdown each stream stops reading (./until-aborted.ts), finishes and
 * answers the items it has already read, and ends with status OK, so
 * executors reconnect instead of seeing an error.
 */
import { create } from "@bufbuild/protobuf";
import { createValidator, type Validator } from "@bufbuild/protovalidate";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  RecordActionEventStreamRequestSchema,
  RecordActionEventStreamResponseSchema,
  RecordActionStreamRequestSchema,
  RecordActionStreamResponseSchema,
  UpdateActionStatusStreamRequestSchema,
  UpdateActionStatusStreamResponseSchema,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import type { Status } from "#gen/google/rpc/status_pb.js";
import type { PhaseUpdateItem } from "../../repository/interfaces/action.js";
import type { NewActionEventRow, NewActionRow } from "../../repository/schema/index.js";
import { actionEventToRow } from "../../repository/transformers/action-events.js";
import { checkMessage } from "../../rpc/check-message.js";
import { statusOf, type InternalRunServiceDeps, type InternalRunServiceHandlers } from "./index.js";
import { recordedRowBuilder } from "./record-action.js";
import { checkEvent } from "./record-events.js";
import { batchedStream, createStreamGauge, DEFAULT_STREAM_BATCH_OPTIONS } from "./stream-batches.js";
import { phaseUpdateOf, signalKeeper } from "./update-status.js";
import { untilAborted } from "./until-aborted.js";

function required<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw new ConnectError(`${path} is required`, Code.InvalidArgument);
  return value;
}

const RECORD = "InternalRunService/RecordActionStream";
const UPDATE = "InternalRunService/UpdateActionStatusStream";
const EVENTS = "InternalRunService/RecordActionEventStream";

export function streamHandlers(
  deps: InternalRunServiceDeps,
  validator: Validator = createValidator(),
): Pick<InternalRunServiceHandlers, "recordActionStream" | "updateActionStatusStream" | "recordActionEventStream"> {
  const buildRow = recordedRowBuilder(deps);
  const keepSignal = signalKeeper(deps);
  const options = { ...DEFAULT_STREAM_BATCH_OPTIONS, ...deps.streamBatches };
  const gauge = deps.streamGauge ?? createStreamGauge();

  /**
   * Prepares each item (a failure is that item's status), writes the prepared
   * ones with `writeAll`, or one by one with `writeOne` when that fails.
   * Returns each item's status (undefined = success).
   */
  async function process<Item, Op>(
    items: Item[],
    procedure: string,
    prepare: (item: Item) => Op | Promise<Op>,
    writeAll: (ops: Op[]) => Promise<unknown>,
    writeOne: (op: Op) => Promise<unknown>,
  ): Promise<(Status | undefined)[]> {
    const statuses: (Status | undefined)[] = items.map(() => undefined);
    const ready: { index: number; op: Op }[] = [];
    for (const [index, item] of items.entries()) {
      try {
        ready.push({ index, op: await prepare(item) });
      } catch (error) {
        statuses[index] = statusOf(error, deps, procedure);
      }
    }
    if (ready.length === 0) return statuses;
    try {
      await writeAll(ready.map((r) => r.op));
    } catch {
      for (const { index, op } of ready) {
        try {
          await writeOne(op);
        } catch (error) {
          statuses[index] = statusOf(error, deps, procedure);
        }
      }
    }
    return statuses;
  }

  const ok = (status: Status | undefined) => status ?? statusOf(undefined, deps, "");

  return {
    async *recordActionStream(requests, ctx) {
      yield* batchedStream(
        untilAborted(requests, ctx.signal),
        async (items) => {
          const statuses = await process<(typeof items)[number], NewActionRow>(
            items,
            RECORD,
            (item) => {
              checkMessage(validator, RecordActionStreamRequestSchema, item);
              return buildRow(required(item.request, "request"));
            },
            (rows) => deps.actions.createActions(rows),
            (row) => deps.actions.createAction(row),
          );
          return items.map((item, i) =>
            create(RecordActionStreamResponseSchema, { response: { actionId: item.request?.actionId, status: ok(statuses[i]) } }),
          );
        },
        options,
        gauge,
      );
    },

    async *updateActionStatusStream(requests, ctx) {
      yield* batchedStream(
        untilAborted(requests, ctx.signal),
        async (items) => {
          const statuses = await process<(typeof items)[number], PhaseUpdateItem>(
            items,
            UPDATE,
            async (item) => {
              checkMessage(validator, UpdateActionStatusStreamRequestSchema, item);
              const request = required(item.request, "request");
              const op = phaseUpdateOf(request, deps.clock);
              await keepSignal(op.key, request);
              return op;
            },
            (updates) => deps.actions.updateActionPhases(updates),
            ({ key, update }) => deps.actions.updateActionPhase(key, update),
          );
          return items.map((item, i) =>
            create(UpdateActionStatusStreamResponseSchema, {
              response: { actionId: item.request?.actionId, status: ok(statuses[i]) },
              nonce: item.nonce,
            }),
          );
        },
        options,
        gauge,
      );
    },

    async *recordActionEventStream(requests, ctx) {
      yield* batchedStream(
        untilAborted(requests, ctx.signal),
        async (items) => {
          const now = deps.clock.now();
          const statuses = await process<(typeof items)[number], NewActionEventRow>(
            items,
            EVENTS,
            (item) => {
              checkMessage(validator, RecordActionEventStreamRequestSchema, item);
              const event = required(item.request?.event, "request.event");
              checkEvent(event, "events[0]");
              return actionEventToRow(event, now);
            },
            (rows) => deps.actions.insertEvents(rows),
            (row) => deps.actions.insertEvents([row]),
          );
          return items.map((item, i) =>
            create(RecordActionEventStreamResponseSchema, {
              response: { actionId: item.request?.event?.id, status: ok(statuses[i]) },
              nonce: item.nonce,
            }),
          );
        },
        options,
        gauge,
      );
    },
  };
}

/**
 * B4 / B4-pg (bench group `bigrun`): InternalRunService's three bidi streams
 * done plainly, each item answered after one write of its own (no
 * validation, no transaction, no notification): the floor the port's
 * streams are compared with.
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Kysely } from "kysely";
import {
  RecordActionEventStreamResponseSchema,
  RecordActionStreamResponseSchema,
  UpdateActionStatusStreamResponseSchema,
  type InternalRunService,
} from "#gen/flyteidl2/workflow/internal_run_service_pb.js";
import { childRow, eventRow, nowText } from "./bigrun-items.js";

export interface BareWrites {
  db: Kysely<any>;
  asBytes: (b: Uint8Array) => Uint8Array;
}

export function bareStreamHandlers(w: BareWrites): Partial<ServiceImpl<typeof InternalRunService>> {
  const { db, asBytes } = w;
  return {
    async *recordActionStream(requests) {
      for await (const item of requests) {
        await db.insertInto("actions").values(childRow(item, asBytes)).onConflict((oc) => oc.doNothing()).execute();
        yield create(RecordActionStreamResponseSchema, { response: { actionId: item.request?.actionId, status: {} } });
      }
    },
    async *updateActionStatusStream(requests) {
      for await (const item of requests) {
        const id = item.request!.actionId!;
        const status = item.request!.status!;
        await db
          .updateTable("actions")
          .set({ phase: status.phase, attempts: status.attempts, cache_status: status.cacheStatus, updated_at: nowText() })
          .where("project", "=", id.run!.project)
          .where("domain", "=", id.run!.domain)
          .where("run_name", "=", id.run!.name)
          .where("name", "=", id.name)
          .execute();
        yield create(UpdateActionStatusStreamResponseSchema, { response: { actionId: id, status: {} }, nonce: item.nonce });
      }
    },
    async *recordActionEventStream(requests) {
      for await (const item of requests) {
        await db.insertInto("action_events").values(eventRow(item, asBytes)).onConflict((oc) => oc.doNothing()).execute();
        yield create(RecordActionEventStreamResponseSchema, { response: { actionId: item.request?.event?.id, status: {} }, nonce: item.nonce });
      }
    },
  };
}

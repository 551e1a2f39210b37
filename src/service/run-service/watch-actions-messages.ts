/**
 * WatchActions messages from EnrichedActions, with the shared ones encoded
 * once for every stream.
 *
 * A leaf action's EnrichedAction is the same object on every stream that
 * applies the same shared row (see watch-actions.ts); 20 streams watching a
 * big run used to encode it 20 times per change. Here such an entry carries
 * its encoded form, made on first use, and a binary stream's message lists
 * every entry as the message's unknown fields (field 1, length delimited:
 * byte for byte what encoding `enriched_actions` writes, in the same order),
 * so the framework's encode of the message is a copy. Entries that are not
 * shared are encoded there once, as the framework would have. JSON streams
 * get ordinary messages: unknown fields do not exist in JSON. (WatchRuns does
 * the same with its runs: watch-runs-messages.ts.)
 */
import { create, toBinary, type UnknownField } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EnrichedActionSchema, type EnrichedAction } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { WatchActionsResponseSchema, type WatchActionsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { chunk } from "./watch-support.js";

/** The field number of `enriched_actions` in WatchActionsResponse (1). */
const ENRICHED_FIELD_NO = WatchActionsResponseSchema.fields.find((f) => f.localName === "enrichedActions")!.number;

/** One entry of a message: the EnrichedAction, and its encoding when other streams send it too. */
export interface ActionEntry {
  readonly message: EnrichedAction;
  /** Set for an entry shared between streams: holds its encoded form once made. */
  readonly shared?: { field?: UnknownField };
}

function encoded(message: EnrichedAction): UnknownField {
  const data = new BinaryWriter().bytes(toBinary(EnrichedActionSchema, message)).finish();
  return { no: ENRICHED_FIELD_NO, wireType: WireType.LengthDelimited, data };
}

function fieldOf(entry: ActionEntry): UnknownField {
  if (!entry.shared) return encoded(entry.message);
  entry.shared.field ??= encoded(entry.message);
  return entry.shared.field;
}

/** The messages that send `entries` in order, at most `maxPerMessage` each. */
export function watchActionsMessages(entries: readonly ActionEntry[], binary: boolean, maxPerMessage: number): WatchActionsResponse[] {
  return chunk(entries, maxPerMessage).map((part) => {
    // Pre-encoding only pays when some entry is shared.
    if (!binary || !part.some((e) => e.shared)) return create(WatchActionsResponseSchema, { enrichedActions: part.map((e) => e.message) });
    const msg = create(WatchActionsResponseSchema);
    msg.$unknown = part.map(fieldOf);
    return msg;
  });
}

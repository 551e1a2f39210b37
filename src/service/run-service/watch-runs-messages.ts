/**
 * WatchRuns messages built once per changed run for every stream.
 *
 * One CreateRun wakes every WatchRuns stream of its project; each used to
 * build and encode its own WatchRunsResponse around the same Run, so 100
 * streams encoded the same Run 100 times. Here a changed run, as re-read once
 * for all streams (SharedReads), carries its encoded form, made on first use:
 * a binary stream sends a WatchRunsResponse whose `runs` entries are those
 * bytes, passed through as the message's unknown fields (field 1, length
 * delimited: byte for byte what encoding `runs` would write), so the
 * framework's encode of each stream's message is a copy. A single-run message
 * is itself shared. JSON streams (Connect JSON, gRPC-web JSON) get the
 * ordinary messages: unknown fields do not exist in JSON.
 */
import { create, toBinary, type UnknownField } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { RunSchema, type Run } from "#gen/flyteidl2/workflow/run_definition_pb.js";
import { WatchRunsResponseSchema, type WatchRunsResponse } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { chunk } from "./watch-support.js";

/** The field number of `runs` in WatchRunsResponse (1). */
const RUNS_FIELD_NO = WatchRunsResponseSchema.fields.find((f) => f.localName === "runs")!.number;

/** A run as sent to every stream: the message and its encodings, made once, on first use. */
export class SharedRun {
  private field: UnknownField | undefined;
  private single: WatchRunsResponse | undefined;

  constructor(readonly run: Run) {}

  /** The run as one `runs` entry of an encoded WatchRunsResponse (the bytes after the tag). */
  runsEntry(): UnknownField {
    if (this.field === undefined) {
      const data = new BinaryWriter().bytes(toBinary(RunSchema, this.run)).finish();
      this.field = { no: RUNS_FIELD_NO, wireType: WireType.LengthDelimited, data };
    }
    return this.field;
  }

  /** A binary stream's message carrying only this run (the same object for every stream). */
  singleMessage(): WatchRunsResponse {
    this.single ??= preEncoded([this]);
    return this.single;
  }
}

/** A WatchRunsResponse whose runs travel pre-encoded (binary codecs only). */
function preEncoded(runs: readonly SharedRun[]): WatchRunsResponse {
  const msg = create(WatchRunsResponseSchema);
  msg.$unknown = runs.map((r) => r.runsEntry());
  return msg;
}

/** Whether a request's codec is binary protobuf (Connect, gRPC, gRPC-web), from its content type. */
export function isBinaryCodec(contentType: string | null): boolean {
  return contentType === null || !contentType.toLowerCase().includes("json");
}

/** The messages that send `runs`, at most `maxPerMessage` runs each. */
export function watchRunsMessages(runs: readonly SharedRun[], binary: boolean, maxPerMessage: number): WatchRunsResponse[] {
  if (runs.length === 0) return [];
  if (!binary) return chunk(runs, maxPerMessage).map((part) => create(WatchRunsResponseSchema, { runs: part.map((r) => r.run) }));
  if (runs.length === 1) return [runs[0].singleMessage()];
  return chunk(runs, maxPerMessage).map(preEncoded);
}

import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { TaskSpecSchema, TraceSpecSchema, type TaskSpec, type TraceSpec } from "#gen/flyteidl2/task/task_definition_pb.js";
import { taskSpecDigest, traceSpecDigest } from "../digest.js";

/** A spec as task_specs stores it: its digest and binary encoding. */
export interface StoredSpec {
  readonly digest: string;
  readonly spec: Uint8Array;
}

export function taskSpecToStored(spec: TaskSpec): StoredSpec {
  return { digest: taskSpecDigest(spec), spec: toBinary(TaskSpecSchema, spec) };
}

export function traceSpecToStored(spec: TraceSpec): StoredSpec {
  return { digest: traceSpecDigest(spec), spec: toBinary(TraceSpecSchema, spec) };
}

/** Decodes stored bytes as a TaskSpec; throws when they are not one. */
export function storedToTaskSpec(stored: { spec: Uint8Array }): TaskSpec {
  return fromBinary(TaskSpecSchema, stored.spec);
}

/** Decodes stored bytes as a TraceSpec; throws when they are not one. */
export function storedToTraceSpec(stored: { spec: Uint8Array }): TraceSpec {
  return fromBinary(TraceSpecSchema, stored.spec);
}

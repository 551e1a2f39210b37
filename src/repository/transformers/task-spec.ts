import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { createHash } from "node:crypto";
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

/**
 * taskSpecToStored with a memory: the digest (jsonpb → objecthash, the
 * costly part) is looked up by a SHA-256 of the spec's binary encoding, so
 * the runs of one task compute it once. Equal bytes decode to equal specs,
 * hence equal digests; specs that differ only in encoding (map order,
 * unknown fields) are simply computed again. Bounded: oldest out first.
 */
export class TaskSpecStorer {
  private readonly digests = new Map<string, string>();
  /** Digests computed, not remembered (tests, diagnostics). */
  computed = 0;

  constructor(private readonly maxEntries = 1000) {}

  toStored(spec: TaskSpec): StoredSpec {
    const bytes = toBinary(TaskSpecSchema, spec);
    const id = createHash("sha256").update(bytes).digest("base64");
    let digest = this.digests.get(id);
    if (digest === undefined) {
      digest = taskSpecDigest(spec);
      this.computed++;
      if (this.digests.size >= this.maxEntries) this.digests.delete(this.digests.keys().next().value as string);
      this.digests.set(id, digest);
    }
    return { digest, spec: bytes };
  }
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

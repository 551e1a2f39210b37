/**
 * Content digests of protobuf messages, compatible with the reference's
 * flytestdlib/pbhash (ComputeHashString):
 *
 *   1. the message is rendered as golang/protobuf `jsonpb` JSON with default
 *      options (lowerCamelCase names, enum names, 64-bit integers as strings,
 *      unset / zero proto3 fields omitted, map entries and unknown fields
 *      irrelevant);
 *   2. that JSON, read back the way Go's encoding/json reads into
 *      `interface{}` (every number a float64), is hashed with objecthash's
 *      "Common JSON" scheme (SHA-256 over type-tagged, key-sorted values);
 *   3. the 32 hash bytes are encoded as padded standard base64 (44 chars).
 *
 * Instead of producing JSON text and parsing it again, the message is turned
 * straight into the value tree the Go side ends up hashing (JsonValue).
 */
import {
  createRegistry,
  fromBinary,
  ScalarType,
  type DescField,
  type DescFile,
  type DescMessage,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { TaskSpecSchema, TraceSpecSchema, type TaskSpec, type TraceSpec } from "#gen/flyteidl2/task/task_definition_pb.js";
import { objectHash, type JsonValue } from "./objecthash.js";

export { commonJsonHash, normalizeFloat, objectHash, type JsonValue } from "./objecthash.js";

export class DigestError extends Error {
  override name = "DigestError";
}

// ---------------------------------------------------------------------------
// jsonpb rendering (golang/protobuf v1.5 jsonpb.Marshaler{} defaults)

const INT64_TYPES = new Set<ScalarType>([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

const WRAPPERS = new Set([
  "google.protobuf.BoolValue",
  "google.protobuf.BytesValue",
  "google.protobuf.StringValue",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.DoubleValue",
]);

/** Messages jsonpb treats as well-known (those embedded in Any get a "value" member). */
const WELL_KNOWN = new Set([
  ...WRAPPERS,
  "google.protobuf.Empty",
  "google.protobuf.Any",
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
]);

const NANOS_PER_SECOND = 1_000_000_000n;

/**
 * The float32 that Go's json.Marshal writes (shortest decimal that reads back
 * as the same float32), as the float64 that json.Unmarshal then reads.
 */
function float32AsGoReadsIt(value: number): number {
  const f = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

function floatValue(type: ScalarType, value: number): JsonValue {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  return type === ScalarType.FLOAT ? float32AsGoReadsIt(value) : value;
}

function scalarValue(type: ScalarType, value: unknown): JsonValue {
  if (INT64_TYPES.has(type)) return String(value);
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return floatValue(type, value as number);
    case ScalarType.BOOL:
      return value as boolean;
    case ScalarType.STRING:
      return value as string;
    case ScalarType.BYTES:
      return Buffer.from(value as Uint8Array).toString("base64");
    default:
      return value as number;
  }
}

/** Trims trailing zero groups the way jsonpb does: 9, 6, 3 or 0 fractional digits. */
function trimFraction(text: string): string {
  let x = text;
  if (x.endsWith("000")) x = x.slice(0, -3);
  if (x.endsWith("000")) x = x.slice(0, -3);
  if (x.endsWith(".000")) x = x.slice(0, -4);
  return x;
}

function durationText(seconds: bigint, nanos: number): string {
  const ns = BigInt(nanos);
  if (ns <= -NANOS_PER_SECOND || ns >= NANOS_PER_SECOND) throw new DigestError("duration nanos out of range");
  if ((seconds > 0n && ns < 0n) || (seconds < 0n && ns > 0n)) {
    throw new DigestError("duration seconds and nanos have different signs");
  }
  let sign = "";
  let s = seconds;
  let n = ns;
  if (s < 0n || n < 0n) {
    sign = "-";
    s = -s;
    n = -n;
  }
  return `${trimFraction(`${sign}${s}.${n.toString().padStart(9, "0")}`)}s`;
}

function timestampText(seconds: bigint, nanos: number): string {
  if (nanos < 0 || nanos >= 1e9) throw new DigestError("timestamp nanos out of range");
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) throw new DigestError("timestamp out of range");
  const year = date.getUTCFullYear();
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const base =
    `${year < 0 ? "-" + pad(-year, 4) : pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${trimFraction(`${base}.${pad(nanos, 9)}`)}Z`;
}

class JsonpbRenderer {
  constructor(private readonly registry: Registry) {}

  message(m: ReflectMessage): JsonValue {
    const typeName = m.desc.typeName;
    if (typeName === "google.protobuf.Any") return this.any(m);
    if (WRAPPERS.has(typeName)) {
      const field = m.findNumber(1)!;
      return this.singular(field, m.get(field));
    }
    if (typeName === "google.protobuf.Duration") {
      return durationText(BigInt(m.get(m.findNumber(1)!) as bigint), m.get(m.findNumber(2)!) as number);
    }
    if (typeName === "google.protobuf.Timestamp") {
      return timestampText(BigInt(m.get(m.findNumber(1)!) as bigint), m.get(m.findNumber(2)!) as number);
    }
    if (typeName === "google.protobuf.Value") {
      const selected = m.oneofCase(m.oneofs[0]);
      if (!selected) throw new DigestError("google.protobuf.Value has no kind set");
      return this.singular(selected, m.get(selected));
    }
    if (typeName === "google.protobuf.Struct" || typeName === "google.protobuf.ListValue") {
      const field = m.findNumber(1)!;
      return this.fieldValue(field, m.get(field));
    }
    return this.plainMessage(m);
  }

  private plainMessage(m: ReflectMessage, typeUrl?: string): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = {};
    if (typeUrl !== undefined) out["@type"] = typeUrl;
    for (const field of m.fields) {
      // Unset scalars (zero values without presence), empty lists and maps,
      // unset messages and unselected oneof members are left out.
      if (!m.isSet(field)) continue;
      out[field.jsonName] = this.fieldValue(field, m.get(field));
    }
    return out;
  }

  private any(m: ReflectMessage): JsonValue {
    const typeUrl = m.get(m.findNumber(1)!) as string;
    const bytes = m.get(m.findNumber(2)!) as Uint8Array;
    const name = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
    const desc = this.registry.getMessage(name);
    if (!desc) throw new DigestError(`cannot resolve Any type ${JSON.stringify(typeUrl)}`);
    const inner = reflect(desc, fromBinary(desc, bytes));
    if (!WELL_KNOWN.has(desc.typeName)) return this.plainMessage(inner, typeUrl);
    return { "@type": typeUrl, value: this.message(inner) };
  }

  private fieldValue(field: DescField, value: unknown): JsonValue {
    if (field.fieldKind === "list") {
      return [...(value as ReflectList)].map((item) => this.singular(field, item));
    }
    if (field.fieldKind === "map") {
      const out: { [key: string]: JsonValue } = {};
      for (const [key, item] of value as ReflectMap) out[String(key)] = this.singular(field, item);
      return out;
    }
    return this.singular(field, value);
  }

  /** One value of a field (a list element or map value for repeated fields). */
  private singular(field: DescField, value: unknown): JsonValue {
    switch (field.fieldKind) {
      case "message":
        return this.message(value as ReflectMessage);
      case "enum":
        return this.enumValue(field.enum.typeName, field.enum.values, value as number);
      case "scalar":
        return scalarValue(field.scalar, value);
      case "list":
        switch (field.listKind) {
          case "message":
            return this.message(value as ReflectMessage);
          case "enum":
            return this.enumValue(field.enum.typeName, field.enum.values, value as number);
          case "scalar":
            return scalarValue(field.scalar, value);
        }
        break;
      case "map":
        switch (field.mapKind) {
          case "message":
            return this.message(value as ReflectMessage);
          case "enum":
            return this.enumValue(field.enum.typeName, field.enum.values, value as number);
          case "scalar":
            return scalarValue(field.scalar, value);
        }
    }
    throw new DigestError(`unsupported field ${(field as DescField).name}`);
  }

  private enumValue(typeName: string, values: readonly { number: number; name: string }[], value: number): JsonValue {
    if (typeName === "google.protobuf.NullValue") return null;
    const known = values.find((v) => v.number === value);
    return known ? known.name : value;
  }
}

/** Every file a descriptor's file imports, transitively (for resolving Any). */
function registryFor(desc: DescMessage): Registry {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    for (const dep of file.dependencies) visit(dep);
  };
  visit(desc.file);
  return createRegistry(...files.values());
}

const registries = new WeakMap<DescMessage, Registry>();

/**
 * The jsonpb value tree of a message. `registry` resolves the payloads of
 * google.protobuf.Any (default: the message's file and its imports).
 */
export function jsonpbValue<Desc extends DescMessage>(desc: Desc, message: MessageShape<Desc>, registry?: Registry): JsonValue {
  let reg = registry;
  if (!reg) {
    reg = registries.get(desc) ?? registryFor(desc);
    registries.set(desc, reg);
  }
  return new JsonpbRenderer(reg).message(reflect(desc, message));
}

/** The reference's pbhash digest of any message: base64 (padded) of 32 bytes. */
export function protoDigest<Desc extends DescMessage>(desc: Desc, message: MessageShape<Desc>, registry?: Registry): string {
  return objectHash(jsonpbValue(desc, message, registry)).toString("base64");
}

/** Digest under which a TaskSpec is stored in task_specs. */
export function taskSpecDigest(spec: TaskSpec): string {
  return protoDigest(TaskSpecSchema, spec);
}

/** Digest under which a TraceSpec is stored in task_specs. */
export function traceSpecDigest(spec: TraceSpec): string {
  return protoDigest(TraceSpecSchema, spec);
}

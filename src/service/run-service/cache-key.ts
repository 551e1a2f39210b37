/**
 * Cache keys of discoverable tasks, computed the way the SDK does so that a
 * run launched from the UI hits the same cache entries as one launched from
 * the SDK:
 *
 *   inputs hash     = base64(SHA-256(deterministic binary of Inputs{literals
 *                     not listed in cache_ignore_input_vars}))  — context dropped
 *   interface hash  = base64(SHA-256(deterministic binary of TypedInterface)), "" when absent
 *   cache key       = base64(SHA-256(inputs hash + task name + interface hash + discovery_version))
 *
 * "Deterministic binary" = fields in field-number order and map entries
 * sorted by key (bytewise for strings, numerically for integers).
 */
import { createHash } from "node:crypto";
import { create, toBinary, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { InputsSchema, type Inputs } from "#gen/flyteidl2/task/common_pb.js";
import { TypedInterfaceSchema } from "#gen/flyteidl2/core/interface_pb.js";
import type { TaskTemplate } from "#gen/flyteidl2/core/tasks_pb.js";

// ---------------------------------------------------------------------------
// Deterministic binary encoding

type AnyMessage = Message & Record<string, unknown>;

/** Whether any message reachable from `desc` has a map field (recursive types are handled). */
function reachesMap(desc: DescMessage, seen: Set<string>): boolean {
  if (seen.has(desc.typeName)) return false;
  seen.add(desc.typeName);
  for (const f of desc.fields) {
    if (f.fieldKind === "map") return true;
    if (f.fieldKind === "message" && reachesMap(f.message, seen)) return true;
    if (f.fieldKind === "list" && f.listKind === "message" && reachesMap(f.message, seen)) return true;
  }
  return false;
}

const mapFree = new WeakMap<DescMessage, boolean>();
function isMapFree(desc: DescMessage): boolean {
  let v = mapFree.get(desc);
  if (v === undefined) {
    v = !reachesMap(desc, new Set());
    mapFree.set(desc, v);
  }
  return v;
}

function fieldIsMapFree(field: DescField): boolean {
  switch (field.fieldKind) {
    case "map":
      return false;
    case "message":
      return isMapFree(field.message);
    case "list":
      return field.listKind !== "message" || isMapFree(field.message);
    default:
      return true;
  }
}

function writeScalar(w: BinaryWriter, no: number, type: ScalarType, value: unknown): void {
  switch (type) {
    case ScalarType.STRING:
      w.tag(no, WireType.LengthDelimited).string(value as string);
      return;
    case ScalarType.BYTES:
      w.tag(no, WireType.LengthDelimited).bytes(value as Uint8Array);
      return;
    case ScalarType.BOOL:
      w.tag(no, WireType.Varint).bool(value as boolean);
      return;
    case ScalarType.DOUBLE:
      w.tag(no, WireType.Bit64).double(value as number);
      return;
    case ScalarType.FLOAT:
      w.tag(no, WireType.Bit32).float(value as number);
      return;
    case ScalarType.INT32:
      w.tag(no, WireType.Varint).int32(value as number);
      return;
    case ScalarType.UINT32:
      w.tag(no, WireType.Varint).uint32(value as number);
      return;
    case ScalarType.SINT32:
      w.tag(no, WireType.Varint).sint32(value as number);
      return;
    case ScalarType.FIXED32:
      w.tag(no, WireType.Bit32).fixed32(value as number);
      return;
    case ScalarType.SFIXED32:
      w.tag(no, WireType.Bit32).sfixed32(value as number);
      return;
    case ScalarType.INT64:
      w.tag(no, WireType.Varint).int64(value as bigint | string);
      return;
    case ScalarType.UINT64:
      w.tag(no, WireType.Varint).uint64(value as bigint | string);
      return;
    case ScalarType.SINT64:
      w.tag(no, WireType.Varint).sint64(value as bigint | string);
      return;
    case ScalarType.FIXED64:
      w.tag(no, WireType.Bit64).fixed64(value as bigint | string);
      return;
    case ScalarType.SFIXED64:
      w.tag(no, WireType.Bit64).sfixed64(value as bigint | string);
      return;
  }
}

/** Map keys arrive as object keys (strings); typed and ordered as Go orders them. */
function sortedMapKeys(type: ScalarType, keys: string[]): { raw: string; typed: unknown }[] {
  if (type === ScalarType.STRING) {
    return keys
      .map((raw) => ({ raw, typed: raw as unknown, bytes: Buffer.from(raw, "utf8") }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
      .map(({ raw, typed }) => ({ raw, typed }));
  }
  if (type === ScalarType.BOOL) {
    return keys.map((raw) => ({ raw, typed: raw === "true" })).sort((a, b) => Number(a.typed) - Number(b.typed));
  }
  const is64 = [ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64].includes(type);
  return keys
    .map((raw) => ({ raw, big: BigInt(raw) }))
    .sort((a, b) => (a.big < b.big ? -1 : a.big > b.big ? 1 : 0))
    .map(({ raw, big }) => ({ raw, typed: is64 ? big : Number(big) }));
}

function writeMessage(w: BinaryWriter, desc: DescMessage, msg: AnyMessage): void {
  if (isMapFree(desc)) {
    w.raw(toBinary(desc, msg));
    return;
  }
  const fields = desc.fields.concat().sort((a, b) => a.number - b.number);
  for (const field of fields) {
    if (fieldIsMapFree(field)) {
      // Encode the field alone with the library encoder (its output is stable without maps).
      const single = create(desc) as AnyMessage;
      if (field.oneof) {
        const o = msg[field.oneof.localName] as { case?: string; value?: unknown };
        if (o.case !== field.localName) continue;
        single[field.oneof.localName] = { case: o.case, value: o.value };
      } else {
        single[field.localName] = msg[field.localName];
      }
      w.raw(toBinary(desc, single, { writeUnknownFields: false }));
      continue;
    }
    let value: unknown;
    if (field.oneof) {
      const o = msg[field.oneof.localName] as { case?: string; value?: unknown };
      if (o.case !== field.localName) continue;
      value = o.value;
    } else {
      value = msg[field.localName];
    }
    switch (field.fieldKind) {
      case "message":
        if (value === undefined) break;
        w.tag(field.number, WireType.LengthDelimited).fork();
        writeMessage(w, field.message, value as AnyMessage);
        w.join();
        break;
      case "list":
        for (const item of value as AnyMessage[]) {
          w.tag(field.number, WireType.LengthDelimited).fork();
          writeMessage(w, (field as DescField & { message: DescMessage }).message, item);
          w.join();
        }
        break;
      case "map": {
        const record = value as Record<string, unknown>;
        for (const { raw, typed } of sortedMapKeys(field.mapKey, Object.keys(record))) {
          w.tag(field.number, WireType.LengthDelimited).fork();
          writeScalar(w, 1, field.mapKey, typed);
          const item = record[raw];
          if (field.mapKind === "message") {
            w.tag(2, WireType.LengthDelimited).fork();
            writeMessage(w, field.message, item as AnyMessage);
            w.join();
          } else if (field.mapKind === "enum") {
            writeScalar(w, 2, ScalarType.INT32, item);
          } else {
            writeScalar(w, 2, field.scalar, item);
          }
          w.join();
        }
        break;
      }
      default:
        break;
    }
  }
  for (const u of msg.$unknown ?? []) w.tag(u.no, u.wireType).raw(u.data);
}

/** The message's binary encoding with fields by number and map entries sorted by key. */
export function deterministicBinary(desc: DescMessage, message: Message): Uint8Array {
  const w = new BinaryWriter();
  writeMessage(w, desc, message as AnyMessage);
  return w.finish();
}

// ---------------------------------------------------------------------------
// Hashes

function sha256Base64(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("base64");
}

/** Hash of the inputs the cache looks at: literals minus cache_ignore_input_vars, no context. */
export function computeFilteredInputsHash(template: TaskTemplate | undefined, inputs: Inputs | undefined): string {
  const ignored = new Set(template?.metadata?.cacheIgnoreInputVars ?? []);
  const kept = create(InputsSchema, { literals: (inputs?.literals ?? []).filter((l) => !ignored.has(l.name)) });
  return sha256Base64(deterministicBinary(InputsSchema, kept));
}

/** Hash of the task's interface; "" when the template has none. */
export function hashInterface(template: TaskTemplate | undefined): string {
  const iface = template?.interface;
  if (!iface) return "";
  return sha256Base64(deterministicBinary(TypedInterfaceSchema, iface));
}

/** The cache key of a task template for a precomputed inputs hash. */
export function generateCacheKey(template: TaskTemplate | undefined, inputsHash: string): string {
  const name = template?.id?.name ?? "";
  const version = template?.metadata?.discoveryVersion ?? "";
  return sha256Base64(`${inputsHash}${name}${hashInterface(template)}${version}`);
}

/** Whether runs of this template are cacheable (and therefore get a cache key). */
export function isDiscoverable(template: TaskTemplate | undefined): boolean {
  return template?.metadata?.discoverable === true;
}

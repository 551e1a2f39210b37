/**
 * RunInfo fields that the 2.0.16 IDL does not declare but the reference
 * (v2.0.43) stores in `detailed_info`: the condition spec (5), a signalled
 * condition's value (6) and who signalled it (7). They are kept as raw
 * protobuf fields, so a database either service wrote reads the same in both,
 * and re-encoding a RunInfo never drops them.
 */
import type { UnknownField } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { RunInfo } from "#gen/flyteidl2/workflow/run_info_pb.js";

/** RunInfo field numbers of the reference at v2.0.43. */
export const RUN_INFO_CONDITION = 5;
export const RUN_INFO_OUTPUT = 6;
export const RUN_INFO_PRINCIPAL = 7;

/** UpdateActionStatusRequest field numbers of the reference at v2.0.43 (inline signal payload). */
export const UPDATE_STATUS_OUTPUT = 3;
export const UPDATE_STATUS_PRINCIPAL = 4;

/** Sets message field `no` of `info` to the encoded message `bytes`, replacing an earlier value. */
export function setRawMessageField(info: RunInfo, no: number, bytes: Uint8Array): void {
  const data = new BinaryWriter().bytes(bytes).finish();
  const kept = (info.$unknown ?? []).filter((f) => f.no !== no);
  info.$unknown = [...kept, { no, wireType: WireType.LengthDelimited, data }];
}

/** The last occurrence of length-delimited field `no` among a message's unknown fields (raw, length prefix included). */
export function unknownMessageField(message: { $unknown?: UnknownField[] }, no: number): UnknownField | undefined {
  const found = (message.$unknown ?? []).filter((f) => f.no === no && f.wireType === WireType.LengthDelimited);
  return found.length > 0 ? found[found.length - 1] : undefined;
}

/** Copies a raw field into `info` under another number, replacing an earlier value. */
export function copyRawField(info: RunInfo, field: UnknownField, no: number): void {
  const kept = (info.$unknown ?? []).filter((f) => f.no !== no);
  info.$unknown = [...kept, { no, wireType: field.wireType, data: field.data }];
}

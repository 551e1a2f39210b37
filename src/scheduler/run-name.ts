/**
 * Deterministic names of scheduled runs. Every replica and every restart
 * derives the same name for the same trigger slot, and CreateRun is
 * idempotent on the run name, so a slot yields at most one run.
 *
 * Format (as in the reference, so names stay stable across the two
 * implementations): "r" followed by the lower-case hexadecimal, without
 * leading zeros, of the 64-bit FNV-1 hash (multiply, then xor; not FNV-1a)
 * of the UTF-8 text
 *
 *   <project>:<domain>:<task name>:<trigger name>:<Y>:<M>:<D>:<h>:<m>:<s>
 *
 * where the date and time are the slot's in UTC, each as a plain decimal
 * number without padding, month 1–12.
 */

const TWO_32 = 2 ** 32;
// 64-bit FNV offset basis 0xcbf29ce484222325 as two 32-bit halves.
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
// The 64-bit FNV prime is 2^40 + 0x1b3.
const PRIME_LOW_PART = 0x1b3;

/** 64-bit FNV-1 of `bytes` as lower-case hex without leading zeros. */
export function fnv1_64Hex(bytes: Uint8Array): string {
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  for (const byte of bytes) {
    // h *= 2^40 + 0x1b3 (mod 2^64), computed on halves: every product stays below 2^53.
    const loProduct = lo * PRIME_LOW_PART;
    const carry = Math.floor(loProduct / TWO_32);
    const shifted = (lo * 256) % TWO_32; // (h << 40) contributes lo << 8 to the high half
    hi = (hi * PRIME_LOW_PART + carry + shifted) % TWO_32;
    lo = loProduct % TWO_32;
    lo = (lo ^ byte) >>> 0;
  }
  return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, "0");
}

export interface ScheduledTriggerName {
  readonly project: string;
  readonly domain: string;
  readonly taskName: string;
  readonly name: string;
}

/** The text that is hashed (exported for tests and logs). */
export function scheduledRunNameInput(trigger: ScheduledTriggerName, slot: Date): string {
  return [
    trigger.project,
    trigger.domain,
    trigger.taskName,
    trigger.name,
    slot.getUTCFullYear(),
    slot.getUTCMonth() + 1,
    slot.getUTCDate(),
    slot.getUTCHours(),
    slot.getUTCMinutes(),
    slot.getUTCSeconds(),
  ].join(":");
}

/** The run name of `trigger`'s run for the slot at `slot` (sub-second parts are ignored). */
export function scheduledRunName(trigger: ScheduledTriggerName, slot: Date): string {
  return "r" + fnv1_64Hex(new TextEncoder().encode(scheduledRunNameInput(trigger, slot)));
}

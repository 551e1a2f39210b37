import { ActionPhase, ActionPhaseSchema } from "#gen/flyteidl2/common/phase_pb.js";

/** Phases after which an attempt (or action) does not change any more: SUCCEEDED, FAILED, ABORTED, TIMED_OUT. */
const TERMINAL: ReadonlySet<number> = new Set([
  ActionPhase.SUCCEEDED,
  ActionPhase.FAILED,
  ActionPhase.ABORTED,
  ActionPhase.TIMED_OUT,
]);

export function isTerminalPhase(phase: number): boolean {
  return TERMINAL.has(phase);
}

/** "SUCCEEDED" for 5; the number as text for a value the enum does not know. */
export function phaseLabel(phase: number): string {
  const value = ActionPhaseSchema.values.find((v) => v.number === phase);
  return value ? value.name.replace(/^ACTION_PHASE_/, "") : String(phase);
}

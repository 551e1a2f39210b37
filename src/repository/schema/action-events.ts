import type { Insertable, Selectable } from "kysely";
import type { Bytes, TimestampColumn } from "./common.js";

export interface ActionEventsTable {
  project: string;
  domain: string;
  run_name: string;
  name: string;
  attempt: number;
  phase: number;
  version: number;
  /** Binary flyteidl2.workflow.ActionEvent. */
  info: Bytes | null;
  /** ErrorInfo.Kind enum name when the event carries an error. */
  error_kind: string | null;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

export type ActionEventRow = Selectable<ActionEventsTable>;
export type NewActionEventRow = Insertable<ActionEventsTable>;

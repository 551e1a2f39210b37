import type { ColumnType, Generated, Selectable } from "kysely";
import type { TimestampColumn } from "./common.js";

/**
 * Table `settings` (the reference's, migration 20260812100000): one row per
 * settings scope, see src/repository/transformers/settings.ts for the key.
 */
export interface SettingsTable {
  id: Generated<number>;
  key: string;
  /**
   * flyteidl2.settings.Settings as proto3 JSON. PostgreSQL keeps it as JSONB
   * and hands back a parsed value; SQLite keeps the text. Written as text.
   */
  data: ColumnType<unknown, string, string>;
  version: ColumnType<number, number | undefined, number>;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
}

export type SettingsRow = Selectable<SettingsTable>;

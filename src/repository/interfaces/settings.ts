import type { Timestamp } from "../timestamps.js";

/** One stored settings scope. */
export interface StoredSettings {
  /** The storage key, "v1:<org>:<domain>:<project>" (see transformers/settings.ts). */
  key: string;
  /** flyteidl2.settings.Settings as proto3 JSON text. */
  data: string;
  /** 1 when created, one more after every update. */
  version: number;
  createdAt: Timestamp;
  updatedAt: Timestamp;
}

export interface SettingsRepo {
  /**
   * Stores a new scope at version 1 and returns it. AlreadyExistsError
   * ("settings already exists: <key>") when the key has a row.
   */
  create(key: string, data: string): Promise<StoredSettings>;
  /** NotFoundError ("settings not found: <key>") when the key has no row. */
  get(key: string): Promise<StoredSettings>;
  /** The rows of those keys that have one, in no particular order; missing keys are not an error. */
  getByKeys(keys: readonly string[]): Promise<StoredSettings[]>;
  /**
   * Replaces the data of `key` when its stored version is still `version`,
   * and returns the row with its version one higher. NotFoundError when the
   * key has no row, FailedPreconditionError when its version moved on.
   */
  update(key: string, data: string, version: number): Promise<StoredSettings>;
}

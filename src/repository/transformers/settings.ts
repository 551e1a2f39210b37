import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { SettingsKeySchema, SettingsSchema, type Settings, type SettingsKey } from "#gen/flyteidl2/settings/settings_definition_pb.js";
import { SettingsRecordSchema, type SettingsRecord } from "#gen/flyteidl2/settings/settings_service_pb.js";

/** The org an empty `org` stands for, as in the reference. */
export const DEFAULT_SETTINGS_ORG = "flyte";

/**
 * The storage key of a scope: "v1:<org>:<domain>:<project>", the org
 * defaulting to "flyte" and empty segments kept ("v1:flyte::" is the org
 * level of the default org). Same text as the reference writes.
 */
export function encodeSettingsKey(org: string, domain: string, project: string): string {
  return `v1:${org === "" ? DEFAULT_SETTINGS_ORG : org}:${domain}:${project}`;
}

export function settingsStorageKey(key: SettingsKey): string {
  return encodeSettingsKey(key.org, key.domain, key.project);
}

/**
 * The scopes a key covers, broadest first: the org, then the domain when
 * set, then the project when set (the order GetSettingsForEdit answers in).
 */
export function settingsLevels(key: SettingsKey): SettingsKey[] {
  const levels = [create(SettingsKeySchema, { org: key.org })];
  if (key.domain !== "") levels.push(create(SettingsKeySchema, { org: key.org, domain: key.domain }));
  if (key.project !== "") levels.push(create(SettingsKeySchema, { org: key.org, domain: key.domain, project: key.project }));
  return levels;
}

/** Settings → the stored proto3 JSON (camelCase names, enum names, defaults left out). */
export function settingsToData(settings: Settings): string {
  return toJsonString(SettingsSchema, settings);
}

/**
 * Stored JSON → Settings. Fields this IDL does not know (written by a newer
 * service) are dropped, as the reference does; anything else that does not
 * decode is a corrupt row and throws.
 */
export function dataToSettings(key: string, data: string): Settings {
  try {
    return fromJsonString(SettingsSchema, data, { ignoreUnknownFields: true });
  } catch (error) {
    throw new Error(`settings ${key}: stored data does not decode: ${(error as Error).message}`, { cause: error });
  }
}

export function settingsRecord(key: SettingsKey, settings: Settings, version: number): SettingsRecord {
  return create(SettingsRecordSchema, { key, settings, version: BigInt(version) });
}

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { SettingsSchema, type Settings, type SettingsKey } from "#gen/flyteidl2/settings/settings_definition_pb.js";
import {
  CreateSettingsResponseSchema,
  GetSettingsForEditResponseSchema,
  SettingsService,
  UpdateSettingsResponseSchema,
} from "#gen/flyteidl2/settings/settings_service_pb.js";
import type { SettingsRepo } from "../repository/interfaces/settings.js";
import {
  dataToSettings,
  settingsLevels,
  settingsRecord,
  settingsStorageKey,
  settingsToData,
} from "../repository/transformers/settings.js";

export interface SettingsServiceDeps {
  settings: SettingsRepo;
}

/**
 * A key names the org, domain or project scope. A project lives in a domain;
 * ':' separates the segments of the storage key, so it may not occur in them.
 */
function checkKey(key: SettingsKey | undefined, missing: string): SettingsKey {
  if (!key) throw new ConnectError(missing, Code.InvalidArgument);
  if (key.project !== "" && key.domain === "") {
    throw new ConnectError("a project-scope key requires a domain", Code.InvalidArgument);
  }
  for (const [name, value] of [["org", key.org], ["domain", key.domain], ["project", key.project]] as const) {
    if (value.includes(":")) throw new ConnectError(`key.${name} must not contain ':' (got ${JSON.stringify(value)})`, Code.InvalidArgument);
  }
  return key;
}

function checkWrite(key: SettingsKey | undefined, settings: Settings | undefined): { key: SettingsKey; settings: Settings } {
  if (!key || !settings) throw new ConnectError("key and settings are required", Code.InvalidArgument);
  return { key: checkKey(key, "key is required"), settings };
}

/**
 * SettingsService over the `settings` table: each scope (org, domain,
 * project) is edited on its own with optimistic versions. GetSettings, the
 * merged view, is not implemented, as in the reference.
 */
export function createSettingsService(deps: SettingsServiceDeps): ServiceImpl<typeof SettingsService> {
  const repo = deps.settings;
  return {
    getSettings() {
      throw new ConnectError(
        "GetSettings (merged settings) is not implemented yet, as in the reference; read each scope with GetSettingsForEdit",
        Code.Unimplemented,
      );
    },

    async getSettingsForEdit(req) {
      const key = checkKey(req.key, "key is required");
      const levels = settingsLevels(key);
      const storageKeys = levels.map(settingsStorageKey);
      const stored = new Map((await repo.getByKeys(storageKeys)).map((row) => [row.key, row]));
      return create(GetSettingsForEditResponseSchema, {
        requestedKey: key,
        // A scope without a row answers empty settings at version 0: create it, do not update it.
        levels: levels.map((level, i) => {
          const row = stored.get(storageKeys[i]);
          return row
            ? settingsRecord(level, dataToSettings(row.key, row.data), row.version)
            : settingsRecord(level, create(SettingsSchema), 0);
        }),
      });
    },

    async createSettings(req) {
      const { key, settings } = checkWrite(req.key, req.settings);
      const row = await repo.create(settingsStorageKey(key), settingsToData(settings));
      return create(CreateSettingsResponseSchema, { settingsRecord: settingsRecord(key, settings, row.version) });
    },

    async updateSettings(req) {
      const { key, settings } = checkWrite(req.key, req.settings);
      if (req.version === 0n) {
        throw new ConnectError("a version is required; use CreateSettings for a new record", Code.InvalidArgument);
      }
      // Stored versions count updates, far below 2^53: a larger one matches no row either way.
      const row = await repo.update(settingsStorageKey(key), settingsToData(settings), Number(req.version));
      return create(UpdateSettingsResponseSchema, { settingsRecord: settingsRecord(key, settings, row.version) });
    },
  };
}

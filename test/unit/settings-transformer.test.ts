import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SettingsKeySchema, SettingsSchema, SettingState } from "#gen/flyteidl2/settings/settings_definition_pb.js";
import {
  dataToSettings,
  encodeSettingsKey,
  settingsLevels,
  settingsToData,
} from "../../src/repository/transformers/settings.js";

describe("encodeSettingsKey (the reference's models/settings_test.go cases)", () => {
  it.each([
    ["all segments set", "acme", "dev", "recsys", "v1:acme:dev:recsys"],
    ["domain level, empty org normalized", "", "dev", "", "v1:flyte:dev:"],
    ["instance level, all empty", "", "", "", "v1:flyte::"],
    ["empty org with domain and project", "", "dev", "recsys", "v1:flyte:dev:recsys"],
    ["org flyte passes through unchanged", "flyte", "dev", "", "v1:flyte:dev:"],
  ])("%s", (_name, org, domain, project, want) => {
    expect(encodeSettingsKey(org, domain, project)).toBe(want);
  });
});

describe("settingsLevels", () => {
  it("lists one key per scope the request covers, broadest first", () => {
    const levels = settingsLevels(create(SettingsKeySchema, { org: "acme", domain: "dev", project: "recsys" }));
    expect(levels.map((k) => [k.org, k.domain, k.project])).toEqual([
      ["acme", "", ""],
      ["acme", "dev", ""],
      ["acme", "dev", "recsys"],
    ]);
    expect(settingsLevels(create(SettingsKeySchema, { org: "acme", domain: "dev" }))).toHaveLength(2);
    expect(settingsLevels(create(SettingsKeySchema, {}))).toHaveLength(1);
  });
});

describe("settings data", () => {
  const settings = create(SettingsSchema, {
    environmentVariables: { state: SettingState.VALUE, mapValue: { entries: { LOG_LEVEL: "debug" } } },
    taskResource: { min: { cpu: { state: SettingState.VALUE, quantityValue: "500m" } } },
  });

  it("is proto3 JSON with camelCase names and enum names, as the reference stores it", () => {
    expect(JSON.parse(settingsToData(settings))).toEqual({
      environmentVariables: { state: "SETTING_STATE_VALUE", mapValue: { entries: { LOG_LEVEL: "debug" } } },
      taskResource: { min: { cpu: { state: "SETTING_STATE_VALUE", quantityValue: "500m" } } },
    });
    expect(settingsToData(create(SettingsSchema))).toBe("{}");
  });

  it("round-trips, accepts proto field names and drops fields a newer IDL added", () => {
    expect(dataToSettings("k", settingsToData(settings))).toEqual(settings);
    const read = dataToSettings("k", JSON.stringify({ environment_variables: { state: "SETTING_STATE_UNSET" }, futureSection: { x: 1 } }));
    expect(read.environmentVariables?.state).toBe(SettingState.UNSET);
  });

  it("names the key when a stored document does not decode", () => {
    expect(() => dataToSettings("v1:flyte::", JSON.stringify({ labels: { state: 42.5 } }))).toThrow(/settings v1:flyte::: stored data does not decode/);
  });
});

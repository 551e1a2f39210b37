import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SettingsKeySchema, SettingsSchema, SettingState, type SettingsKey } from "#gen/flyteidl2/settings/settings_definition_pb.js";
import { SettingsService } from "#gen/flyteidl2/settings/settings_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "#gen/grpc/health/v1/health_pb.js";
import { startTestApp, TRANSPORTS, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";

type KeyInit = MessageInitShape<typeof SettingsKeySchema>;

const envSettings = (name: string, value: string) =>
  create(SettingsSchema, { environmentVariables: { state: SettingState.VALUE, mapValue: { entries: { [name]: value } } } });

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

const keyTuple = (k: SettingsKey | undefined) => [k?.org, k?.domain, k?.project];

// Ported by behaviour from the reference's runs/service/settings_service_test.go, over a real server.
describe.each(await testDialects())("SettingsService over a real server on %s", (kind) => {
  let t: TestApp;
  let client: Client<typeof SettingsService>;
  beforeAll(async () => {
    t = await startTestApp(kind);
    client = createClient(SettingsService, t.transports["connect-h2"]);
  });
  afterAll(async () => t?.close());
  beforeEach(async () => {
    await t.app.db.db.deleteFrom("settings").execute();
  });

  const org: KeyInit = { org: "acme" };
  const domain: KeyInit = { org: "acme", domain: "development" };
  const project: KeyInit = { org: "acme", domain: "development", project: "recsys" };

  it.each(TRANSPORTS)("creates, reads for edit and updates a project scope over %s", async (name) => {
    const c = createClient(SettingsService, t.transports[name]);
    const created = await c.createSettings({ key: project, settings: envSettings("LOG_LEVEL", "debug") });
    expect(created.settingsRecord?.version).toBe(1n);
    expect(keyTuple(created.settingsRecord?.key)).toEqual(["acme", "development", "recsys"]);
    expect(created.settingsRecord?.settings).toEqual(envSettings("LOG_LEVEL", "debug"));

    let edit = await c.getSettingsForEdit({ key: project });
    expect(edit.levels).toHaveLength(3);
    expect(edit.levels[2].version).toBe(1n);
    expect(edit.levels[2].settings).toEqual(envSettings("LOG_LEVEL", "debug"));

    const updated = await c.updateSettings({ key: project, settings: envSettings("LOG_LEVEL", "warn"), version: 1n });
    expect(updated.settingsRecord?.version).toBe(2n);
    edit = await c.getSettingsForEdit({ key: project });
    expect(edit.levels[2].version).toBe(2n);
    expect(edit.levels[2].settings).toEqual(envSettings("LOG_LEVEL", "warn"));
  });

  it("refuses a second CreateSettings of a scope with AlreadyExists and keeps the first", async () => {
    await client.createSettings({ key: domain, settings: envSettings("LOG_LEVEL", "debug") });
    const error = await errorOf(client.createSettings({ key: domain, settings: envSettings("LOG_LEVEL", "warn") }));
    expect(error.code).toBe(Code.AlreadyExists);
    expect(error.rawMessage).toBe("settings already exists: v1:acme:development:");
    const edit = await client.getSettingsForEdit({ key: domain });
    expect(edit.levels).toHaveLength(2);
    expect(edit.levels[1].version).toBe(1n);
    expect(edit.levels[1].settings).toEqual(envSettings("LOG_LEVEL", "debug"));
  });

  it("answers a stale version with FailedPrecondition; the first writer's data stays", async () => {
    await client.createSettings({ key: domain, settings: envSettings("LOG_LEVEL", "debug") });
    await client.updateSettings({ key: domain, settings: envSettings("LOG_LEVEL", "info"), version: 1n });
    const error = await errorOf(client.updateSettings({ key: domain, settings: envSettings("LOG_LEVEL", "warn"), version: 1n }));
    expect(error.code).toBe(Code.FailedPrecondition);
    expect(error.rawMessage).toContain("is at version 2");
    const edit = await client.getSettingsForEdit({ key: domain });
    expect(edit.levels[1].version).toBe(2n);
    expect(edit.levels[1].settings).toEqual(envSettings("LOG_LEVEL", "info"));
  });

  it("answers UpdateSettings of a scope without a row with NotFound (no upsert)", async () => {
    const key = { org: "acme", domain: "nowhere" };
    const error = await errorOf(client.updateSettings({ key, settings: envSettings("LOG_LEVEL", "debug"), version: 1n }));
    expect(error.code).toBe(Code.NotFound);
    expect((await client.getSettingsForEdit({ key })).levels[1].version).toBe(0n);
  });

  it("returns every level's own settings, broadest first, unmerged", async () => {
    await client.createSettings({ key: org, settings: envSettings("LOG_LEVEL", "org") });
    await client.createSettings({ key: domain, settings: envSettings("LOG_LEVEL", "domain") });
    await client.createSettings({ key: project, settings: envSettings("LOG_LEVEL", "project") });
    const edit = await client.getSettingsForEdit({ key: project });
    expect(keyTuple(edit.requestedKey)).toEqual(["acme", "development", "recsys"]);
    expect(edit.levels.map((l) => keyTuple(l.key))).toEqual([
      ["acme", "", ""],
      ["acme", "development", ""],
      ["acme", "development", "recsys"],
    ]);
    expect(edit.levels.map((l) => l.settings?.environmentVariables?.mapValue?.entries.LOG_LEVEL)).toEqual(["org", "domain", "project"]);
    expect(edit.levels.map((l) => l.version)).toEqual([1n, 1n, 1n]);
  });

  it("answers missing levels as empty settings at version 0", async () => {
    await client.createSettings({ key: org, settings: envSettings("LOG_LEVEL", "org") });
    const edit = await client.getSettingsForEdit({ key: project });
    expect(edit.levels).toHaveLength(3);
    expect(edit.levels[0].version).toBe(1n);
    for (const level of edit.levels.slice(1)) {
      expect(level.version).toBe(0n);
      expect(level.settings).toEqual(create(SettingsSchema));
    }
  });

  it.each([
    ["org only", org, 1],
    ["org and domain", domain, 2],
    ["org, domain and project", project, 3],
  ])("answers as many levels as the key names scopes (%s), with no rows stored", async (_name, key, levels) => {
    expect((await client.getSettingsForEdit({ key })).levels).toHaveLength(levels);
  });

  it("treats an empty org as the default org \"flyte\" and echoes the key as sent", async () => {
    await client.createSettings({ key: {}, settings: envSettings("A", "1") });
    const edit = await client.getSettingsForEdit({ key: { org: "flyte" } });
    expect(edit.levels[0].version).toBe(1n);
    const again = await errorOf(client.createSettings({ key: { org: "flyte" }, settings: envSettings("A", "2") }));
    expect(again.code).toBe(Code.AlreadyExists);
    expect(keyTuple((await client.getSettingsForEdit({ key: {} })).levels[0].key)).toEqual(["", "", ""]);
  });

  it.each([
    ["CreateSettings without a key", () => client.createSettings({ settings: envSettings("A", "1") })],
    ["CreateSettings without settings", () => client.createSettings({ key: domain })],
    ["CreateSettings for a project without a domain", () => client.createSettings({ key: { org: "acme", project: "recsys" }, settings: envSettings("A", "1") })],
    ["UpdateSettings without a key", () => client.updateSettings({ settings: envSettings("A", "1"), version: 1n })],
    ["UpdateSettings without settings", () => client.updateSettings({ key: domain, version: 1n })],
    ["UpdateSettings for a project without a domain", () => client.updateSettings({ key: { org: "acme", project: "recsys" }, settings: envSettings("A", "1"), version: 1n })],
    ["UpdateSettings at version 0", () => client.updateSettings({ key: domain, settings: envSettings("A", "1") })],
    ["GetSettingsForEdit without a key", () => client.getSettingsForEdit({})],
    ["GetSettingsForEdit for a project without a domain", () => client.getSettingsForEdit({ key: { org: "acme", project: "recsys" } })],
    ["a ':' inside a key segment", () => client.createSettings({ key: { org: "acme", domain: "dev:x" }, settings: envSettings("A", "1") })],
  ])("refuses %s with InvalidArgument and stores nothing", async (_name, call) => {
    const error = await errorOf(call());
    expect(error.code).toBe(Code.InvalidArgument);
    expect(await t.app.db.db.selectFrom("settings").selectAll().execute()).toEqual([]);
  });

  it("names the rule in the InvalidArgument message", async () => {
    expect((await errorOf(client.updateSettings({ key: domain, settings: envSettings("A", "1") }))).rawMessage).toBe(
      "a version is required; use CreateSettings for a new record",
    );
    expect((await errorOf(client.getSettingsForEdit({ key: { org: "acme", project: "recsys" } }))).rawMessage).toBe(
      "a project-scope key requires a domain",
    );
  });

  it("is mounted: gRPC health knows it", async () => {
    const health = createClient(Health, t.transports.grpc);
    const res = await health.check({ service: "flyteidl2.settings.SettingsService" });
    expect(res.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("answers GetSettings with Unimplemented, as the reference", async () => {
    const error = await errorOf(client.getSettings({ key: project }));
    expect(error.code).toBe(Code.Unimplemented);
  });
});

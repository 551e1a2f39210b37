import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../../src/repository/errors.js";
import type { SettingsRepo } from "../../src/repository/interfaces/settings.js";
import { createSettingsRepo } from "../../src/repository/kysely/settings.js";
import { encodeSettingsKey } from "../../src/repository/transformers/settings.js";
import { manualClock } from "../support/manual-clock.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";

// Ported by behaviour from the reference's runs/repository/impl/settings_test.go.
describe.each(await testDialects())("settings repository on %s", (kind) => {
  const clock = manualClock();
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let repo: SettingsRepo;

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
    repo = createSettingsRepo(handle, clock);
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    await handle?.db.deleteFrom("settings").execute();
  });

  it("creates a scope at version 1 and reads it back", async () => {
    const key = encodeSettingsKey("", "development", "");
    const data = JSON.stringify({ environmentVariables: { state: "SETTING_STATE_VALUE", mapValue: { entries: { LOG_LEVEL: "debug" } } } });
    const created = await repo.create(key, data);
    expect(created.version).toBe(1);
    expect(created.key).toBe("v1:flyte:development:");
    const got = await repo.get(key);
    expect(got.key).toBe(key);
    expect(got.version).toBe(1);
    expect(JSON.parse(got.data)).toEqual(JSON.parse(data));
    expect(got.createdAt).toBe(created.createdAt);
    expect(got.updatedAt).toBe(got.createdAt);
  });

  it("refuses a second create of the same scope and keeps the first data", async () => {
    const key = encodeSettingsKey("", "development", "recsys");
    await repo.create(key, "{}");
    const error = await repo.create(key, JSON.stringify({ labels: {} })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlreadyExistsError);
    expect((error as Error).message).toBe(`settings already exists: ${key}`);
    expect(JSON.parse((await repo.get(key)).data)).toEqual({});
  });

  it("answers NotFound for a scope without a row", async () => {
    const error = await repo.get(encodeSettingsKey("", "nowhere", "")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe("settings not found: v1:flyte:nowhere:");
  });

  it("returns the rows of the keys that have one; missing keys are not errors", async () => {
    const instanceKey = encodeSettingsKey("", "", "");
    const domainKey = encodeSettingsKey("", "development", "");
    const projectKey = encodeSettingsKey("", "development", "recsys");
    await repo.create(instanceKey, "{}");
    await repo.create(domainKey, "{}");
    const rows = await repo.getByKeys([instanceKey, domainKey, projectKey]);
    expect(rows.map((r) => r.key).sort()).toEqual([instanceKey, domainKey].sort());
    expect(await repo.getByKeys([])).toEqual([]);
  });

  it("lets the first of two writers of version 1 win; the stale one gets FailedPrecondition", async () => {
    const key = encodeSettingsKey("", "development", "recsys");
    const born = await repo.create(key, JSON.stringify({ run: { defaultQueue: { state: "SETTING_STATE_VALUE", stringValue: "cpu-pool" } } }));
    const stale = await repo.get(key);
    expect(stale.version).toBe(1);

    clock.advance(1_000);
    const winner = JSON.stringify({ run: { defaultQueue: { state: "SETTING_STATE_VALUE", stringValue: "gpu-pool" } } });
    const updated = await repo.update(key, winner, born.version);
    expect(updated.version).toBe(2);

    const loser = JSON.stringify({ labels: { state: "SETTING_STATE_VALUE" } });
    const error = await repo.update(key, loser, stale.version).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedPreconditionError);
    expect((error as Error).message).toContain(`settings version conflict: ${key} is at version 2`);

    const got = await repo.get(key);
    expect(got.version).toBe(2);
    expect(JSON.parse(got.data)).toEqual(JSON.parse(winner));
    expect(got.createdAt).toBe(born.createdAt);
    expect(got.updatedAt).not.toBe(got.createdAt);
    expect(got.updatedAt).toBe(updated.updatedAt);
  });

  it("answers NotFound when updating a scope without a row, and creates nothing", async () => {
    const key = encodeSettingsKey("", "nowhere", "");
    const error = await repo.update(key, "{}", 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(await repo.getByKeys([key])).toEqual([]);
  });

  it("keeps counting versions across many updates", async () => {
    const key = encodeSettingsKey("acme", "", "");
    let version = (await repo.create(key, "{}")).version;
    for (let i = 0; i < 5; i++) version = (await repo.update(key, JSON.stringify({ labels: { state: "SETTING_STATE_UNSET" } }), version)).version;
    expect(version).toBe(6);
    expect((await repo.get(key)).version).toBe(6);
  });
});

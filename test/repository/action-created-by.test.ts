import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EnrichedIdentitySchema } from "#gen/flyteidl2/common/identity_pb.js";
import { Filter_Function, ListRequestSchema, Sort_Direction } from "#gen/flyteidl2/common/list_pb.js";
import type { DatabaseHandle } from "../../src/repository/dialect/index.js";
import type { ActionRepo, RunScope } from "../../src/repository/interfaces/action.js";
import type { PageRequest } from "../../src/repository/interfaces/common.js";
import { createActionRepo } from "../../src/repository/kysely/action.js";
import { ACTION_COLUMNS, parseListRequest } from "../../src/repository/list/index.js";
import { runRowToRun } from "../../src/repository/transformers/action.js";
import { openMigratedDatabase, testDialects } from "../support/databases.js";
import { manualClock, type ManualClock } from "../support/manual-clock.js";
import { newActionRow, recordingBus } from "./action-fixtures.js";

const ALL: RunScope = { kind: "all" };
const request = (init: MessageInitShape<typeof ListRequestSchema> = {}): PageRequest =>
  parseListRequest(create(ListRequestSchema, init), ACTION_COLUMNS);

function identity(subject: string, email: string) {
  return create(EnrichedIdentitySchema, { principal: { case: "user", value: { id: { subject }, spec: { email } } } });
}

describe.each(await testDialects())("who created a run, on %s", (kind) => {
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let clock: ManualClock;
  let repo: ActionRepo;

  beforeAll(async () => {
    ({ handle, drop } = await openMigratedDatabase(kind));
  });
  afterAll(async () => drop?.());
  beforeEach(async () => {
    await handle.db.deleteFrom("actions").execute();
    clock = manualClock("2026-01-01T00:00:00.000000Z");
    repo = createActionRepo(handle, clock, recordingBus());
    for (const [run, who] of [["r-alice", "alice"], ["r-bob", "bob"], ["r-alice2", "alice"], ["r-anon", undefined]] as const) {
      clock.advance(1);
      await repo.createAction(
        newActionRow(clock, {
          run_name: run,
          name: "a0",
          created_by: who ? toBinary(EnrichedIdentitySchema, identity(who, `${who}@example.com`)) : null,
          created_by_subject: who ?? null,
        }),
      );
    }
  });

  it("stores the serialized identity and its subject, and reads them back", async () => {
    const row = await repo.getRun({ project: "proj1", domain: "domain1", run: "r-alice" });
    expect(row.created_by_subject).toBe("alice");
    const stored = fromBinary(EnrichedIdentitySchema, row.created_by!);
    expect(stored.principal.case === "user" && stored.principal.value.spec?.email).toBe("alice@example.com");
    expect(runRowToRun(row).action?.metadata?.executedBy).toEqual(identity("alice", "alice@example.com"));
    const anon = await repo.getRun({ project: "proj1", domain: "domain1", run: "r-anon" });
    expect([anon.created_by, anon.created_by_subject]).toEqual([null, null]);
    expect(runRowToRun(anon).action?.metadata?.executedBy).toBeUndefined();
  });

  it("filters and sorts runs by created_by_subject", async () => {
    const names = async (init: MessageInitShape<typeof ListRequestSchema>) =>
      (await repo.listRuns(ALL, request({ limit: 50, ...init }))).rows.map((r) => r.run_name);
    expect(
      await names({
        filters: [{ field: "created_by_subject", function: Filter_Function.EQUAL, values: ["alice"] }],
        sortByFields: [{ key: "created_at", direction: Sort_Direction.ASCENDING }],
      }),
    ).toEqual(["r-alice", "r-alice2"]);
    expect(
      (await names({ filters: [{ field: "created_by_subject", function: Filter_Function.VALUE_IN, values: ["bob", "carol"] }] })),
    ).toEqual(["r-bob"]);
    expect(await names({ filters: [{ field: "created_by_subject", function: Filter_Function.CONTAINS, values: ["lic"] }] })).toHaveLength(2);
    const sorted = await names({ sortByFields: [{ key: "created_by_subject", direction: Sort_Direction.ASCENDING }, { key: "created_at", direction: Sort_Direction.ASCENDING }] });
    expect(sorted.slice(0, 3)).toEqual(["r-alice", "r-alice2", "r-bob"]);
  });
});

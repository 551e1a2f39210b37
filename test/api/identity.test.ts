import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityService } from "#gen/flyteidl2/auth/identity_pb.js";
import { Filter_Function } from "#gen/flyteidl2/common/list_pb.js";
import type { EnrichedIdentity } from "#gen/flyteidl2/common/identity_pb.js";
import { RunService } from "#gen/flyteidl2/workflow/run_service_pb.js";
import { startTestApp, TRANSPORTS, type TestApp } from "../support/app.js";
import { testDialects } from "../support/databases.js";
import { startTestIdp, unsignedJwt, type TestIdp } from "../support/oidc-server.js";
import { startFakeActionsService, type FakeActionsService } from "./fake-actions-service.js";
import { follow } from "./watch-helpers.js";

const ORG = "testorg";
const PROJECT = "flytesnacks";
const DOMAIN = "development";
const projectId = { organization: ORG, name: PROJECT, domain: DOMAIN };
const runId = (name: string) => ({ org: ORG, project: PROJECT, domain: DOMAIN, name });
const taskSpec = { taskTemplate: { id: { org: ORG, project: PROJECT, domain: DOMAIN, name: "env.hello", version: "v1" }, type: "python", interface: {} } };

/** What AWS ALB forwards for a signed-in browser user. */
const ALB_HEADERS = {
  "x-amzn-oidc-data": unsignedJwt({ sub: "00uALICE", given_name: "Alice", family_name: "Liddell", email: "alice@example.com" }, { padded: true }),
};
/** What the SDK sends: an access token whose own subject is the client app. */
const BEARER_HEADERS = { authorization: `Bearer ${unsignedJwt({ sub: "0oaCLIENT" })}` };

function who(identity: EnrichedIdentity | undefined) {
  if (identity?.principal.case !== "user") return undefined;
  return { sub: identity.principal.value.id?.subject, email: identity.principal.value.spec?.email ?? "" };
}

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

describe.each(await testDialects())("who ran it, over a real server on %s", (kind) => {
  let t: TestApp;
  let untrusting: TestApp;
  let actions: FakeActionsService;
  let idp: TestIdp;
  let runs: Client<typeof RunService>;

  beforeAll(async () => {
    actions = await startFakeActionsService();
    idp = await startTestIdp({
      userinfo: (authz) =>
        authz === BEARER_HEADERS.authorization
          ? { status: 200, body: JSON.stringify({ sub: "00uBOB", given_name: "Bob", family_name: "Builder", email: "bob@example.com" }) }
          : { status: 401, body: "{}" },
    });
    t = await startTestApp(kind, (c) => {
      c.runs.actionsServiceUrl = actions.url;
      c.runs.authMetadata.externalAuthServerBaseUrl = idp.baseUrl;
    });
    untrusting = await startTestApp(kind, (c) => {
      c.runs.actionsServiceUrl = actions.url;
      c.runs.trustForwardedIdentityHeaders = false;
    });
    runs = createClient(RunService, t.transports["connect-h2"]);
  });
  afterAll(async () => {
    await t?.close();
    await untrusting?.close();
    await actions?.close();
    await idp?.close();
  });

  describe.each(TRANSPORTS)("UserInfo over %s", (transport) => {
    it("answers from the forwarded claims, from userinfo for a Bearer token, and Unauthenticated without identity", async () => {
      const identity = createClient(IdentityService, t.transports[transport]);
      expect(await identity.userInfo({}, { headers: ALB_HEADERS })).toMatchObject({
        subject: "00uALICE",
        name: "Alice Liddell",
        givenName: "Alice",
        familyName: "Liddell",
        email: "alice@example.com",
      });
      expect(await identity.userInfo({}, { headers: BEARER_HEADERS })).toMatchObject({ subject: "00uBOB", name: "Bob Builder", email: "bob@example.com" });
      const none = await errorOf(identity.userInfo({}));
      expect(none.code).toBe(Code.Unauthenticated);
      expect(none.rawMessage).toContain("runs.trustForwardedIdentityHeaders");
    });
  });

  it("UserInfo is Unauthenticated whatever the headers when they are not trusted", async () => {
    const identity = createClient(IdentityService, untrusting.transports["connect-json-h1"]);
    expect((await errorOf(identity.userInfo({}, { headers: ALB_HEADERS }))).code).toBe(Code.Unauthenticated);
  });

  it("records the creator: CreateRun's answer, GetRunDetails, ListRuns (filtered by created_by_subject) and the watches", async () => {
    const watch = follow((signal) => runs.watchRuns({ target: { case: "projectId", value: projectId } }, { signal }));
    try {
      const byAlice = await runs.createRun({ id: { case: "runId", value: runId("by-alice") }, task: { case: "taskSpec", value: taskSpec } }, { headers: ALB_HEADERS });
      expect(who(byAlice.run?.action?.metadata?.executedBy)).toEqual({ sub: "00uALICE", email: "alice@example.com" });
      const http1 = createClient(RunService, t.transports["connect-json-h1"]);
      const byBob = await http1.createRun({ id: { case: "runId", value: runId("by-bob") }, task: { case: "taskSpec", value: taskSpec } }, { headers: BEARER_HEADERS });
      // The Bearer path takes the user from userinfo, not the token's client subject.
      expect(who(byBob.run?.action?.metadata?.executedBy)).toEqual({ sub: "00uBOB", email: "bob@example.com" });
      const anonymous = await runs.createRun({ id: { case: "runId", value: runId("by-nobody") }, task: { case: "taskSpec", value: taskSpec } });
      expect(anonymous.run?.action?.metadata?.executedBy).toBeUndefined();

      const details = await http1.getRunDetails({ runId: runId("by-alice") });
      expect(details.details?.action?.metadata?.executedBy?.principal.value).toMatchObject({ spec: { firstName: "Alice", lastName: "Liddell" } });

      const listed = await runs.listRuns({
        scopeBy: { case: "projectId", value: projectId },
        request: { limit: 10, filters: [{ field: "created_by_subject", function: Filter_Function.EQUAL, values: ["00uBOB"] }] },
      });
      expect(listed.runs.map((r) => [r.action?.id?.run?.name, who(r.action?.metadata?.executedBy)?.sub])).toEqual([["by-bob", "00uBOB"]]);

      await watch.until(
        (m) => m.some((x) => x.runs.some((r) => r.action?.id?.run?.name === "by-alice" && who(r.action.metadata?.executedBy)?.sub === "00uALICE")),
        "by-alice on WatchRuns with its creator",
      );
      const detailsWatch = follow((signal) => runs.watchRunDetails({ runId: runId("by-bob") }, { signal }));
      try {
        await detailsWatch.until((m) => m.length > 0, "the first details");
        expect(who(detailsWatch.messages[0].details?.action?.metadata?.executedBy)?.sub).toBe("00uBOB");
      } finally {
        detailsWatch.cancel();
      }
      const actionsWatch = follow((signal) => runs.watchActions({ runId: runId("by-alice") }, { signal }));
      try {
        await actionsWatch.until((m) => m.some((x) => x.enrichedActions.length > 0), "the root action");
        expect(who(actionsWatch.messages[0].enrichedActions[0].action?.metadata?.executedBy)?.sub).toBe("00uALICE");
      } finally {
        actionsWatch.cancel();
      }
    } finally {
      watch.cancel();
    }
  });

  it("records no creator when the headers are not trusted", async () => {
    const client = createClient(RunService, untrusting.transports.grpc);
    const created = await client.createRun({ id: { case: "runId", value: runId("untrusted") }, task: { case: "taskSpec", value: taskSpec } }, { headers: ALB_HEADERS });
    expect(created.run?.action?.metadata?.executedBy).toBeUndefined();
    const row = await untrusting.app.repository.actions.getRun({ project: PROJECT, domain: DOMAIN, run: "untrusted" });
    expect([row.created_by, row.created_by_subject]).toEqual([null, null]);
  });
});

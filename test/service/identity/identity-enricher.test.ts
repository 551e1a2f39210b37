import { afterEach, describe, expect, it } from "vitest";
import { UserSpecSchema, type EnrichedIdentity } from "#gen/flyteidl2/common/identity_pb.js";
import { create } from "@bufbuild/protobuf";
import { createIdentityEnricher, type IdentityEnricherOptions } from "../../../src/service/identity/identity-enricher.js";
import { subjectOnlyIdentity } from "../../../src/service/identity/forwarded-identity.js";
import { quietLogger } from "../../support/databases.js";
import { manualClock } from "../../support/manual-clock.js";
import { startTestIdp, type TestIdp, type TestIdpOptions } from "../../support/oidc-server.js";

const idps: TestIdp[] = [];
afterEach(async () => {
  await Promise.all(idps.splice(0).map((idp) => idp.close()));
});

async function idp(opts: TestIdpOptions): Promise<TestIdp> {
  const started = await startTestIdp(opts);
  idps.push(started);
  return started;
}

/** An IdP whose userinfo answers `body` with `status` for "Bearer access-tok" and 401 otherwise. */
function fixedUserinfo(body: object | string, status = 200): TestIdpOptions {
  return {
    userinfo: (authz) =>
      authz === "Bearer access-tok" ? { status, body: typeof body === "string" ? body : JSON.stringify(body) } : { status: 401, body: "{}" },
  };
}

function enricherFor(server: TestIdp, extra: Partial<IdentityEnricherOptions> = {}) {
  const enricher = createIdentityEnricher({ authServerBaseUrl: `${server.baseUrl}/`, logger: quietLogger, clock: manualClock(), ...extra });
  if (!enricher) throw new Error("expected an enricher");
  return enricher;
}

function profile(identity: EnrichedIdentity) {
  if (identity.principal.case !== "user") throw new Error("not a user");
  const { id, spec } = identity.principal.value;
  return { sub: id?.subject, first: spec?.firstName, last: spec?.lastName, email: spec?.email };
}

describe("identity enricher", () => {
  it("fills the profile from userinfo and answers the same token from its cache", async () => {
    const server = await idp(fixedUserinfo({ sub: "00u1", given_name: "Carina", family_name: "Didilescu", email: "carina@union.ai" }));
    const enricher = enricherFor(server);
    const got = await enricher.enrich("access-tok", subjectOnlyIdentity("00u1"));
    expect(profile(got)).toEqual({ sub: "00u1", first: "Carina", last: "Didilescu", email: "carina@union.ai" });
    await enricher.enrich("access-tok", subjectOnlyIdentity("00u1"));
    expect(server.hits).toEqual({ discovery: 1, userinfo: 1 });
    expect(server.authorizations).toEqual(["Bearer access-tok"]);
  });

  it("asks nothing without a token or when the profile is already complete", async () => {
    const server = await idp(fixedUserinfo({ sub: "x", email: "e@x.com" }));
    const enricher = enricherFor(server);
    const bare = subjectOnlyIdentity("s");
    expect(await enricher.enrich("", bare)).toBe(bare);
    const complete = subjectOnlyIdentity("s");
    if (complete.principal.case === "user") complete.principal.value.spec = create(UserSpecSchema, { firstName: "A", lastName: "B", email: "a@b.com" });
    expect(await enricher.enrich("tok", complete)).toBe(complete);
    expect(server.hits).toEqual({ discovery: 0, userinfo: 0 });
  });

  it("is not built without a server URL", () => {
    expect(createIdentityEnricher({ authServerBaseUrl: "", logger: quietLogger, clock: manualClock() })).toBeUndefined();
  });

  it("adopts userinfo's subject over the token's (the token's may be the client id)", async () => {
    const server = await idp(fixedUserinfo({ sub: "00uUSER", given_name: "Kevin", family_name: "Su", email: "kevin@union.ai" }));
    const got = await enricherFor(server).enrich("access-tok", subjectOnlyIdentity("0oaCLIENT"));
    expect(profile(got)).toEqual({ sub: "00uUSER", first: "Kevin", last: "Su", email: "kevin@union.ai" });
  });

  it("caches per access token, not per token subject", async () => {
    const server = await idp({
      userinfo: (authz) =>
        authz === "Bearer tok-a"
          ? { status: 200, body: JSON.stringify({ sub: "00uA", given_name: "Alice" }) }
          : authz === "Bearer tok-b"
            ? { status: 200, body: JSON.stringify({ sub: "00uB", given_name: "Bob" }) }
            : { status: 401, body: "{}" },
    });
    const enricher = enricherFor(server);
    const a = await enricher.enrich("tok-a", subjectOnlyIdentity("0oaCLIENT"));
    const b = await enricher.enrich("tok-b", subjectOnlyIdentity("0oaCLIENT"));
    expect(profile(a)).toMatchObject({ sub: "00uA", first: "Alice" });
    expect(profile(b)).toMatchObject({ sub: "00uB", first: "Bob" });
    expect(enricher.cacheSize()).toBe(2);
  });

  it("asks again once a cached answer is older than the cache lifetime", async () => {
    const server = await idp(fixedUserinfo({ sub: "00u1", email: "a@b.com" }));
    const clock = manualClock();
    const enricher = enricherFor(server, { clock, cacheTtlMs: 60_000 });
    await enricher.enrich("access-tok", subjectOnlyIdentity("00u1"));
    clock.advance(59_000);
    await enricher.enrich("access-tok", subjectOnlyIdentity("00u1"));
    expect(server.hits.userinfo).toBe(1);
    clock.advance(2_000);
    await enricher.enrich("access-tok", subjectOnlyIdentity("00u1"));
    expect(server.hits.userinfo).toBe(2);
    // The discovery document is read once for the life of the enricher.
    expect(server.hits.discovery).toBe(1);
  });

  it("keeps at most maxCacheEntries tokens", async () => {
    const server = await idp({ userinfo: (authz) => ({ status: 200, body: JSON.stringify({ sub: `u-${authz}` }) }) });
    const enricher = enricherFor(server, { maxCacheEntries: 2 });
    for (const token of ["t1", "t2", "t3"]) await enricher.enrich(token, subjectOnlyIdentity("client"));
    expect(enricher.cacheSize()).toBe(2);
    await enricher.enrich("t1", subjectOnlyIdentity("client")); // evicted first, so asked again
    expect(server.hits.userinfo).toBe(4);
  });

  it.each([
    ["userinfo without a subject", fixedUserinfo({ given_name: "NoSub" })],
    ["userinfo refusing the token", fixedUserinfo("nope", 401)],
    ["userinfo answering something else than JSON", fixedUserinfo("<html>")],
    ["userinfo with a claim of the wrong type", fixedUserinfo({ sub: "x", email: 7 })],
    ["discovery without userinfo_endpoint", { ...fixedUserinfo({ sub: "x" }), discovery: () => ({ status: 200, body: "{}" }) }],
    ["discovery failing", { ...fixedUserinfo({ sub: "x" }), discovery: () => ({ status: 500, body: "" }) }],
  ])("keeps the identity as it came on %s, and caches nothing", async (_name, opts) => {
    const server = await idp(opts);
    const enricher = enricherFor(server);
    const got = await enricher.enrich("access-tok", subjectOnlyIdentity("00u2"));
    expect(profile(got)).toEqual({ sub: "00u2", first: undefined, last: undefined, email: undefined });
    expect(enricher.cacheSize()).toBe(0);
  });

  it("gives up on a userinfo endpoint slower than the timeout", async () => {
    const server = await idp({ ...fixedUserinfo({ sub: "late" }), userinfoDelayMs: 2_000 });
    const got = await enricherFor(server, { timeoutMs: 100 }).enrich("access-tok", subjectOnlyIdentity("00u3"));
    expect(profile(got).sub).toBe("00u3");
  });

  it("keeps the identity when the server cannot be reached", async () => {
    const server = await idp(fixedUserinfo({ sub: "x" }));
    const url = server.baseUrl;
    await server.close();
    const enricher = createIdentityEnricher({ authServerBaseUrl: url, logger: quietLogger, clock: manualClock() })!;
    expect(profile(await enricher.enrich("access-tok", subjectOnlyIdentity("00u4"))).sub).toBe("00u4");
  });
});

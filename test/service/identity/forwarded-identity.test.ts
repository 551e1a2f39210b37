import { describe, expect, it } from "vitest";
import type { EnrichedIdentity } from "#gen/flyteidl2/common/identity_pb.js";
import type { IdentityHeadersConfig } from "../../../src/config/index.js";
import {
  bearerToken,
  identityFromHeaders,
  identityFromJwt,
  resolveIdentity,
  subjectOnlyIdentity,
  type Enricher,
} from "../../../src/service/identity/forwarded-identity.js";
import { unsignedJwt } from "../../support/oidc-server.js";

const ALB: IdentityHeadersConfig = { claimsJwtHeader: "X-Amzn-Oidc-Data", subjectHeader: "X-Amzn-Oidc-Identity", emailHeader: "" };
const PLAIN_PROXY: IdentityHeadersConfig = { claimsJwtHeader: "", subjectHeader: "X-Auth-Request-User", emailHeader: "X-Auth-Request-Email" };

function profile(identity: EnrichedIdentity | undefined) {
  if (identity?.principal.case !== "user") return undefined;
  const { id, spec } = identity.principal.value;
  return { sub: id?.subject, first: spec?.firstName ?? "", last: spec?.lastName ?? "", email: spec?.email ?? "", hasSpec: spec !== undefined };
}

describe("identityFromJwt", () => {
  it("reads padded base64url payloads (AWS ALB pads its claims JWT)", () => {
    const token = unsignedJwt({ sub: "00u1", given_name: "Kevin", family_name: "Su", email: "kevin@union.ai" }, { padded: true });
    expect(token.split(".")[1]).toMatch(/=$/);
    expect(profile(identityFromJwt(token))).toMatchObject({ sub: "00u1", first: "Kevin", last: "Su", email: "kevin@union.ai" });
  });

  it("ignores the signature segment entirely", () => {
    const token = unsignedJwt({ sub: "anyone" }).replace(/\.sig$/, ".not-a-signature");
    expect(profile(identityFromJwt(token))?.sub).toBe("anyone");
  });

  it.each([
    ["two segments", "a.b"],
    ["payload not base64url", "x.@@@.y"],
    ["payload not JSON", `x.${Buffer.from("nope").toString("base64url")}.y`],
    ["payload a JSON array", `x.${Buffer.from("[1]").toString("base64url")}.y`],
    ["sub of the wrong type", unsignedJwt({ sub: 42 })],
    ["email of the wrong type", unsignedJwt({ sub: "s", email: ["a"] })],
    ["no sub", unsignedJwt({ email: "a@b.com" })],
  ])("gives nothing for %s", (_name, token) => {
    expect(identityFromJwt(token)).toBeUndefined();
  });
});

describe("identityFromHeaders", () => {
  const cases: { name: string; cfg: IdentityHeadersConfig; headers: Record<string, string>; want?: ReturnType<typeof profile> }[] = [
    {
      name: "claims JWT header: full profile (cookie path)",
      cfg: ALB,
      headers: { "X-Amzn-Oidc-Data": unsignedJwt({ sub: "00u123", given_name: "Carina", family_name: "Didilescu", email: "carina@union.ai" }) },
      want: { sub: "00u123", first: "Carina", last: "Didilescu", email: "carina@union.ai", hasSpec: true },
    },
    {
      name: "claims JWT header: subject and email only",
      cfg: ALB,
      headers: { "X-Amzn-Oidc-Data": unsignedJwt({ sub: "00u999", email: "a@b.com" }) },
      want: { sub: "00u999", first: "", last: "", email: "a@b.com", hasSpec: true },
    },
    {
      name: "subject header fallback (subject only)",
      cfg: ALB,
      headers: { "X-Amzn-Oidc-Identity": "okta|sub-only" },
      want: { sub: "okta|sub-only", first: "", last: "", email: "", hasSpec: false },
    },
    {
      name: "plain-value proxy headers (subject and email)",
      cfg: PLAIN_PROXY,
      headers: { "X-Auth-Request-User": " user-42 ", "X-Auth-Request-Email": "u42@union.ai" },
      want: { sub: "user-42", first: "", last: "", email: "u42@union.ai", hasSpec: true },
    },
    {
      name: "Bearer token claims (SDK path)",
      cfg: ALB,
      headers: { Authorization: `Bearer ${unsignedJwt({ sub: "sdk-user", given_name: "Dev", email: "dev@union.ai" })}` },
      want: { sub: "sdk-user", first: "Dev", last: "", email: "dev@union.ai", hasSpec: true },
    },
    {
      name: "Bearer is read even with every configured header turned off",
      cfg: { claimsJwtHeader: "", subjectHeader: "", emailHeader: "" },
      headers: { authorization: `bearer ${unsignedJwt({ sub: "sdk-user" })}`, "X-Amzn-Oidc-Identity": "ignored" },
      want: { sub: "sdk-user", first: "", last: "", email: "", hasSpec: false },
    },
    {
      name: "claims JWT header wins over Bearer",
      cfg: ALB,
      headers: { "X-Amzn-Oidc-Data": unsignedJwt({ sub: "cookie-user" }), Authorization: `Bearer ${unsignedJwt({ sub: "bearer-user" })}` },
      want: { sub: "cookie-user", first: "", last: "", email: "", hasSpec: false },
    },
    {
      name: "an unreadable claims JWT falls through to the subject header",
      cfg: ALB,
      headers: { "X-Amzn-Oidc-Data": "a.b", "X-Amzn-Oidc-Identity": "from-subject" },
      want: { sub: "from-subject", first: "", last: "", email: "", hasSpec: false },
    },
    { name: "no auth headers", cfg: ALB, headers: {} },
    { name: "non-Bearer Authorization", cfg: ALB, headers: { Authorization: "Basic abc" } },
    { name: "malformed claims JWT (two segments)", cfg: ALB, headers: { "X-Amzn-Oidc-Data": "a.b" } },
    { name: "claims JWT without sub", cfg: ALB, headers: { "X-Amzn-Oidc-Data": unsignedJwt({ email: "a@b.com" }) } },
    { name: "email header without subject header", cfg: PLAIN_PROXY, headers: { "X-Auth-Request-Email": "u@x" } },
  ];
  it.each(cases)("$name", ({ cfg, headers, want }) => {
    const found = identityFromHeaders(new Headers(headers), cfg);
    expect(profile(found?.identity)).toEqual(want);
  });

  it("subjectOnlyIdentity carries no profile", () => {
    expect(profile(subjectOnlyIdentity("user-123"))).toEqual({ sub: "user-123", first: "", last: "", email: "", hasSpec: false });
  });
});

describe("bearerToken", () => {
  it("takes the token after a case-insensitive Bearer scheme, else nothing", () => {
    expect(bearerToken(new Headers({ Authorization: "Bearer abc" }))).toBe("abc");
    expect(bearerToken(new Headers({ Authorization: "BEARER  abc " }))).toBe("abc");
    expect(bearerToken(new Headers({ Authorization: "Bearer " }))).toBe("");
    expect(bearerToken(new Headers())).toBe("");
  });
});

describe("resolveIdentity", () => {
  function recordingEnricher(): Enricher & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      async enrich(token, base) {
        calls.push(token);
        return base.principal.case === "user" ? subjectOnlyIdentity(`enriched:${base.principal.value.id?.subject}`) : base;
      },
    };
  }
  const bearer = `Bearer ${unsignedJwt({ sub: "00uBEARER" })}`;

  it("enriches an identity the Bearer token established, with that token", async () => {
    const enricher = recordingEnricher();
    const id = await resolveIdentity(new Headers({ Authorization: bearer }), ALB, enricher);
    expect(profile(id)?.sub).toBe("enriched:00uBEARER");
    expect(enricher.calls).toEqual([bearer.slice("Bearer ".length)]);
  });

  it("does not enrich a claims-header identity although a Bearer token is present", async () => {
    const enricher = recordingEnricher();
    const headers = new Headers({ "X-Amzn-Oidc-Data": unsignedJwt({ sub: "00uPROXY", email: "proxy@union.ai" }), Authorization: bearer });
    expect(profile(await resolveIdentity(headers, ALB, enricher))?.sub).toBe("00uPROXY");
    expect(enricher.calls).toEqual([]);
  });

  it("does not enrich a subject-header identity although a Bearer token is present", async () => {
    const enricher = recordingEnricher();
    const headers = new Headers({ "X-Amzn-Oidc-Identity": "00uPROXY", Authorization: bearer });
    expect(profile(await resolveIdentity(headers, ALB, enricher))?.sub).toBe("00uPROXY");
    expect(enricher.calls).toEqual([]);
  });

  it("gives nothing without an identity, and keeps the decoded one without an enricher", async () => {
    expect(await resolveIdentity(new Headers(), ALB, recordingEnricher())).toBeUndefined();
    expect(profile(await resolveIdentity(new Headers({ Authorization: bearer }), ALB, undefined))?.sub).toBe("00uBEARER");
  });
});

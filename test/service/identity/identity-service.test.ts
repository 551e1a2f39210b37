import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { IdentityService } from "#gen/flyteidl2/auth/identity_pb.js";
import { UserSchema } from "#gen/flyteidl2/common/identity_pb.js";
import type { IdentityHeadersConfig } from "../../../src/config/index.js";
import { identityInterceptor } from "../../../src/server/interceptors/identity.js";
import { createIdentityService, userInfoFromUser } from "../../../src/service/identity-service.js";
import { unsignedJwt } from "../../support/oidc-server.js";

const ALB: IdentityHeadersConfig = { claimsJwtHeader: "X-Amzn-Oidc-Data", subjectHeader: "X-Amzn-Oidc-Identity", emailHeader: "" };
const PLAIN_PROXY: IdentityHeadersConfig = { claimsJwtHeader: "", subjectHeader: "X-Auth-Request-User", emailHeader: "X-Auth-Request-Email" };

function client(headers: IdentityHeadersConfig, trust = true) {
  const transport = createRouterTransport(({ service }) => service(IdentityService, createIdentityService()), {
    router: { interceptors: [identityInterceptor({ trustForwardedHeaders: trust, headers, enricher: undefined })] },
  });
  return createClient(IdentityService, transport);
}

async function codeOf(p: Promise<unknown>): Promise<Code> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error).code;
  }
  throw new Error("expected the call to fail");
}

describe("IdentityService.UserInfo", () => {
  it.each([
    {
      name: "claims JWT: full profile",
      cfg: ALB,
      headers: { "X-Amzn-Oidc-Data": unsignedJwt({ sub: "00u1", given_name: "Kevin", family_name: "Su", email: "kevin@union.ai" }) },
      want: { subject: "00u1", name: "Kevin Su", givenName: "Kevin", familyName: "Su", email: "kevin@union.ai" },
    },
    { name: "subject header: subject only", cfg: ALB, headers: { "X-Amzn-Oidc-Identity": "okta|abc" }, want: { subject: "okta|abc", name: "", email: "" } },
    {
      name: "plain-value proxy: subject and email",
      cfg: PLAIN_PROXY,
      headers: { "X-Auth-Request-User": "user-42", "X-Auth-Request-Email": "u42@union.ai" },
      want: { subject: "user-42", email: "u42@union.ai" },
    },
    {
      name: "Bearer token: claims decoded from the JWT",
      cfg: ALB,
      headers: { Authorization: `Bearer ${unsignedJwt({ sub: "sdk", given_name: "Dev", email: "dev@union.ai" })}` },
      want: { subject: "sdk", name: "Dev", givenName: "Dev", email: "dev@union.ai" },
    },
  ])("$name", async ({ cfg, headers, want }) => {
    expect(await client(cfg).userInfo({}, { headers })).toMatchObject(want);
  });

  it.each([
    ["no identity headers", {}],
    ["a malformed Bearer token", { Authorization: "Bearer not-a-jwt" }],
  ])("is Unauthenticated with %s", async (_name, headers) => {
    expect(await codeOf(client(ALB).userInfo({}, { headers }))).toBe(Code.Unauthenticated);
  });

  it("is Unauthenticated when forwarded headers are not trusted", async () => {
    expect(await codeOf(client(ALB, false).userInfo({}, { headers: { "X-Amzn-Oidc-Identity": "someone" } }))).toBe(Code.Unauthenticated);
  });

  it("is Unauthenticated without the interceptor (no request identity at all)", async () => {
    const transport = createRouterTransport(({ service }) => service(IdentityService, createIdentityService()));
    expect(await codeOf(createClient(IdentityService, transport).userInfo({}, { headers: { "X-Amzn-Oidc-Identity": "x" } }))).toBe(Code.Unauthenticated);
  });
});

describe("userInfoFromUser", () => {
  it.each([
    ["both names", "Kevin", "Su", "Kevin Su"],
    ["first only", "Kevin", "", "Kevin"],
    ["last only", "", "Su", "Su"],
    ["neither", "", "", ""],
  ])("joins first and last name: %s", (_name, firstName, lastName, want) => {
    expect(userInfoFromUser(create(UserSchema, { id: { subject: "s" }, spec: { firstName, lastName } })).name).toBe(want);
  });

  it("maps the handle and the photo", () => {
    const info = userInfoFromUser(create(UserSchema, { id: { subject: "s" }, spec: { userHandle: "ksu", photoUrl: "https://x/p.png" } }));
    expect([info.preferredUsername, info.picture]).toEqual(["ksu", "https://x/p.png"]);
  });
});

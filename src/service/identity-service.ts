import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { User } from "#gen/flyteidl2/common/identity_pb.js";
import { IdentityService, UserInfoResponseSchema, type UserInfoResponse } from "#gen/flyteidl2/auth/identity_pb.js";
import { callerIdentity } from "./identity/caller-identity.js";

const NO_IDENTITY =
  "no authenticated identity on the request: send Authorization: Bearer <JWT> or the identity headers of runs.identityHeaders " +
  "(they are read only while runs.trustForwardedIdentityHeaders is true)";

/**
 * UserInfo answers with the identity a run created by the same request would
 * record as executed_by (runs/service/identity_service.go at v2.0.43);
 * Unauthenticated when there is none.
 */
export function createIdentityService(): ServiceImpl<typeof IdentityService> {
  return {
    async userInfo(_req, ctx) {
      const identity = await callerIdentity(ctx);
      if (identity?.principal.case !== "user") throw new ConnectError(NO_IDENTITY, Code.Unauthenticated);
      return userInfoFromUser(identity.principal.value);
    },
  };
}

/** The OIDC-shaped answer; `name` joins first and last name (the identity has no full-name field). */
export function userInfoFromUser(user: User): UserInfoResponse {
  const spec = user.spec;
  return create(UserInfoResponseSchema, {
    subject: user.id?.subject ?? "",
    name: `${spec?.firstName ?? ""} ${spec?.lastName ?? ""}`.trim(),
    preferredUsername: spec?.userHandle ?? "",
    givenName: spec?.firstName ?? "",
    familyName: spec?.lastName ?? "",
    email: spec?.email ?? "",
    picture: spec?.photoUrl ?? "",
  });
}

import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { IdentityService, UserInfoResponseSchema } from "#gen/flyteidl2/auth/identity_pb.js";

/** No authentication in this service: UserInfo answers an empty identity, as the reference does. */
export function createIdentityService(): ServiceImpl<typeof IdentityService> {
  return {
    userInfo: () => create(UserInfoResponseSchema, {}),
  };
}

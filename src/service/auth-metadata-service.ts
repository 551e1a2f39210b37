import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { AuthMetadataService, GetPublicClientConfigResponseSchema } from "#gen/flyteidl2/auth/auth_service_pb.js";

export interface AuthMetadataServiceDeps {
  /** Reported as dataplane_domain; empty for a standalone service, as in the reference. */
  dataplaneDomain: string;
}

export function createAuthMetadataService(deps: AuthMetadataServiceDeps): ServiceImpl<typeof AuthMetadataService> {
  return {
    getOAuth2Metadata: () => {
      throw new ConnectError("OAuth2 metadata is not served: this service runs without authentication", Code.Unimplemented);
    },
    getPublicClientConfig: () => create(GetPublicClientConfigResponseSchema, { dataplaneDomain: deps.dataplaneDomain }),
  };
}

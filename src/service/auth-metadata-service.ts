import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { AuthMetadataService, GetPublicClientConfigResponseSchema } from "#gen/flyteidl2/auth/auth_service_pb.js";
import type { AuthMetadataConfig } from "../config/index.js";
import type { OAuth2MetadataSource } from "./oauth2-metadata.js";

export interface AuthMetadataServiceDeps {
  /** Reported as dataplane_domain; empty for a standalone service, as in the reference. */
  dataplaneDomain: string;
  /** runs.authMetadata: the public client GetPublicClientConfig advertises. */
  config: AuthMetadataConfig;
  /** The external server's metadata (shared with /.well-known/oauth-authorization-server). */
  metadata: OAuth2MetadataSource;
}

/** Token header clients are told to use when runs.authMetadata.authorizationMetadataKey is empty. */
export const DEFAULT_AUTHORIZATION_METADATA_KEY = "authorization";

export function createAuthMetadataService(deps: AuthMetadataServiceDeps): ServiceImpl<typeof AuthMetadataService> {
  const { flyteClient } = deps.config;
  return {
    getOAuth2Metadata: (_req, ctx) => deps.metadata.get(ctx.signal),
    getPublicClientConfig: () =>
      create(GetPublicClientConfigResponseSchema, {
        clientId: flyteClient.clientId,
        redirectUri: flyteClient.redirectUri,
        scopes: flyteClient.scopes,
        authorizationMetadataKey: deps.config.authorizationMetadataKey || DEFAULT_AUTHORIZATION_METADATA_KEY,
        audience: flyteClient.audience,
        dataplaneDomain: deps.dataplaneDomain,
      }),
  };
}

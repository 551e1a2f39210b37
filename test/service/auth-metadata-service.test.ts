import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { AuthMetadataService } from "#gen/flyteidl2/auth/auth_service_pb.js";
import { defaultConfig, type AuthMetadataConfig } from "../../src/config/index.js";
import { createAuthMetadataService } from "../../src/service/auth-metadata-service.js";
import { createOAuth2MetadataSource, MAX_METADATA_BYTES, metadataUrl } from "../../src/service/oauth2-metadata.js";
import { startFakeIdp, oktaLikeMetadata, type FakeIdp } from "../support/fake-idp.js";
import { manualClock } from "../support/manual-clock.js";
import { freePort } from "../support/ports.js";

const quiet = pino({ level: "silent" });

function authConfig(over: Partial<AuthMetadataConfig> = {}): AuthMetadataConfig {
  return { ...defaultConfig().runs.authMetadata, retryDelay: 1, ...over };
}

/** The service behind an in-memory Connect transport, so codes travel as on the wire. */
function client(config: AuthMetadataConfig, opts: { clock?: ReturnType<typeof manualClock>; dataplaneDomain?: string } = {}) {
  const metadata = createOAuth2MetadataSource({ config, logger: quiet, clock: opts.clock });
  const impl = createAuthMetadataService({ dataplaneDomain: opts.dataplaneDomain ?? "example.com", config, metadata });
  return createClient(AuthMetadataService, createRouterTransport((router) => router.service(AuthMetadataService, impl)));
}

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

let idp: FakeIdp | undefined;
afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

// Ported by behaviour from the reference's runs/service/auth_metadata_service_test.go.
describe("GetOAuth2Metadata", () => {
  it("answers Unimplemented, naming the key to set, when no external server is configured", async () => {
    const error = await errorOf(client(authConfig()).getOAuth2Metadata({}));
    expect(error.code).toBe(Code.Unimplemented);
    expect(error.rawMessage).toContain("runs.authMetadata.externalAuthServerBaseUrl");
  });

  it("proxies the external server's well-known document, dropping fields the IDL does not model", async () => {
    idp = await startFakeIdp(() => ({ body: oktaLikeMetadata("https://idp.example.com/oauth2/default") }));
    const res = await client(authConfig({ externalAuthServerBaseUrl: `${idp.url}/oauth2/default` })).getOAuth2Metadata({});
    expect(idp.requests).toEqual(["/oauth2/default/.well-known/oauth-authorization-server"]);
    expect(res.issuer).toBe("https://idp.example.com/oauth2/default");
    expect(res.authorizationEndpoint).toBe("https://idp.example.com/oauth2/default/v1/authorize");
    expect(res.tokenEndpoint).toBe("https://idp.example.com/oauth2/default/v1/token");
    expect(res.jwksUri).toBe("https://idp.example.com/oauth2/default/v1/keys");
    expect(res.deviceAuthorizationEndpoint).toBe("https://idp.example.com/oauth2/default/v1/device/authorize");
    expect(res.grantTypesSupported).toContain("refresh_token");
  });

  it("accepts camelCase documents too (flyteadmin's)", async () => {
    idp = await startFakeIdp(() => ({ body: JSON.stringify({ issuer: "https://admin", tokenEndpoint: "https://admin/token" }) }));
    const res = await client(authConfig({ externalAuthServerBaseUrl: idp.url })).getOAuth2Metadata({});
    expect(res.tokenEndpoint).toBe("https://admin/token");
  });

  it("resolves a custom metadata path against the base URL", async () => {
    idp = await startFakeIdp(() => ({ body: JSON.stringify({ issuer: "https://idp.example.com" }) }));
    const res = await client(authConfig({ externalAuthServerBaseUrl: idp.url, externalMetadataUrl: "custom/metadata" })).getOAuth2Metadata({});
    expect(res.issuer).toBe("https://idp.example.com");
    expect(idp.requests).toEqual(["/custom/metadata"]);
  });

  it("retries a failing IdP the configured number of times, then answers Unavailable", async () => {
    idp = await startFakeIdp(() => ({ status: 500 }));
    const error = await errorOf(client(authConfig({ externalAuthServerBaseUrl: idp.url, retryAttempts: 3 })).getOAuth2Metadata({}));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toContain("3 attempt(s) failed, the last with status 500");
    expect(idp.requests).toHaveLength(3);
  });

  it("succeeds when the IdP recovers within the attempts", async () => {
    idp = await startFakeIdp((n) => (n < 3 ? { status: 503 } : { body: JSON.stringify({ issuer: "https://recovered" }) }));
    const res = await client(authConfig({ externalAuthServerBaseUrl: idp.url, retryAttempts: 3 })).getOAuth2Metadata({});
    expect(res.issuer).toBe("https://recovered");
    expect(idp.requests).toHaveLength(3);
  });

  it("uses 5 attempts when retryAttempts is 0, as the reference", async () => {
    idp = await startFakeIdp(() => ({ status: 502 }));
    await errorOf(client(authConfig({ externalAuthServerBaseUrl: idp.url, retryAttempts: 0 })).getOAuth2Metadata({}));
    expect(idp.requests).toHaveLength(5);
  });

  it("answers Unavailable when nothing listens at the base URL", async () => {
    const port = await freePort();
    const error = await errorOf(client(authConfig({ externalAuthServerBaseUrl: `http://127.0.0.1:${port}`, retryAttempts: 2 })).getOAuth2Metadata({}));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toContain("2 attempt(s) failed");
  });

  it("does not retry a 4xx answer and reports it as Internal", async () => {
    idp = await startFakeIdp(() => ({ status: 404 }));
    const error = await errorOf(client(authConfig({ externalAuthServerBaseUrl: idp.url, retryAttempts: 4 })).getOAuth2Metadata({}));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toContain("status 404");
    expect(idp.requests).toHaveLength(1);
  });

  it("refuses a document larger than 1 MiB with Internal", async () => {
    idp = await startFakeIdp(() => ({ body: `{"issuer":"${"a".repeat(MAX_METADATA_BYTES + 1024)}"}` }));
    const error = await errorOf(client(authConfig({ externalAuthServerBaseUrl: idp.url })).getOAuth2Metadata({}));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toContain(`exceeds ${MAX_METADATA_BYTES} bytes`);
  });

  it("reports a document that is not JSON as Internal, naming its content type", async () => {
    idp = await startFakeIdp(() => ({ type: "text/html", body: "<html>login</html>" }));
    const error = await errorOf(client(authConfig({ externalAuthServerBaseUrl: idp.url })).getOAuth2Metadata({}));
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toContain('Content-Type "text/html"');
  });

  it("serves repeated calls from its cache, asks again once the cache expires, and never caches failures", async () => {
    let issuer = "https://first";
    let fail = true;
    idp = await startFakeIdp(() => (fail ? { status: 500 } : { body: JSON.stringify({ issuer }) }));
    const clock = manualClock();
    const c = client(authConfig({ externalAuthServerBaseUrl: idp.url, retryAttempts: 1 }), { clock });
    expect((await errorOf(c.getOAuth2Metadata({}))).code).toBe(Code.Unavailable);
    fail = false;
    for (let i = 0; i < 3; i++) expect((await c.getOAuth2Metadata({})).issuer).toBe("https://first");
    expect(idp.requests).toHaveLength(2);
    issuer = "https://second";
    clock.advance(5 * 60_000 + 1);
    expect((await c.getOAuth2Metadata({})).issuer).toBe("https://second");
    expect(idp.requests).toHaveLength(3);
  });

  it("stops waiting between attempts when the caller gives up", async () => {
    idp = await startFakeIdp(() => ({ status: 500 }));
    const config = authConfig({ externalAuthServerBaseUrl: idp.url, retryAttempts: 5, retryDelay: 60_000 });
    const source = createOAuth2MetadataSource({ config, logger: quiet });
    const abort = new AbortController();
    const pending = source.get(abort.signal);
    while (idp.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    const error = await errorOf(pending);
    expect(error.code).toBe(Code.Canceled);
    expect(idp.requests).toHaveLength(1);
  });
});

describe("metadataUrl", () => {
  it.each([
    ["https://idp/oauth2/default", "", "https://idp/oauth2/default/.well-known/oauth-authorization-server"],
    ["https://idp/oauth2/default/", "", "https://idp/oauth2/default/.well-known/oauth-authorization-server"],
    ["https://idp", ".well-known/openid-configuration", "https://idp/.well-known/openid-configuration"],
  ])("%s + %j → %s", (base, path, want) => {
    expect(metadataUrl(authConfig({ externalAuthServerBaseUrl: base, externalMetadataUrl: path })).href).toBe(want);
  });

  it.each(["/abs/path", "https://elsewhere/x", "//elsewhere/x"])("refuses %s, which would leave the base URL", (path) => {
    expect(() => metadataUrl(authConfig({ externalAuthServerBaseUrl: "https://idp", externalMetadataUrl: path }))).toThrow(/must be relative/);
  });
});

describe("GetPublicClientConfig", () => {
  it("answers the configured public client", async () => {
    const res = await client(
      authConfig({
        authorizationMetadataKey: "flyte-authorization",
        flyteClient: {
          clientId: "flytectl",
          redirectUri: "http://localhost:53593/callback",
          scopes: ["offline_access", "profile"],
          audience: "https://api.example.com",
        },
      }),
      { dataplaneDomain: "dataplane.example.com" },
    ).getPublicClientConfig({});
    expect(res.clientId).toBe("flytectl");
    expect(res.redirectUri).toBe("http://localhost:53593/callback");
    expect(res.scopes).toEqual(["offline_access", "profile"]);
    expect(res.audience).toBe("https://api.example.com");
    expect(res.authorizationMetadataKey).toBe("flyte-authorization");
    expect(res.dataplaneDomain).toBe("dataplane.example.com");
  });

  it("tells clients to use the authorization header when no key is configured", async () => {
    const res = await client(authConfig({ authorizationMetadataKey: "" })).getPublicClientConfig({});
    expect(res.authorizationMetadataKey).toBe("authorization");
    expect(res.clientId).toBe("");
  });
});

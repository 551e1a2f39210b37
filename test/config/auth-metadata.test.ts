import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/index.js";
import { configErrorOf, loadYaml, SQLITE_YAML } from "./helpers.js";

// runs.authMetadata.* (the reference's AuthMetadataConfig, v2.0.43).
describe("runs.authMetadata", () => {
  it("defaults to not configured, with the reference's effective retry, path and header defaults", () => {
    expect(defaultConfig().runs.authMetadata).toEqual({
      externalAuthServerBaseUrl: "",
      externalMetadataUrl: ".well-known/oauth-authorization-server",
      retryAttempts: 5,
      retryDelay: 1_000,
      authorizationMetadataKey: "authorization",
      flyteClient: { clientId: "", redirectUri: "", scopes: [], audience: "" },
    });
  });

  it("reads every key from the file", () => {
    const cfg = loadYaml(
      SQLITE_YAML +
        `
runs:
  authMetadata:
    externalAuthServerBaseUrl: https://signin.example.com/oauth2/default
    externalMetadataUrl: .well-known/openid-configuration
    retryAttempts: 3
    retryDelay: 250ms
    authorizationMetadataKey: flyte-authorization
    flyteClient:
      clientId: flytectl
      redirectUri: http://localhost:53593/callback
      scopes: [offline_access, all]
      audience: https://api.example.com
`,
    );
    expect(cfg.runs.authMetadata).toEqual({
      externalAuthServerBaseUrl: "https://signin.example.com/oauth2/default",
      externalMetadataUrl: ".well-known/openid-configuration",
      retryAttempts: 3,
      retryDelay: 250,
      authorizationMetadataKey: "flyte-authorization",
      flyteClient: {
        clientId: "flytectl",
        redirectUri: "http://localhost:53593/callback",
        scopes: ["offline_access", "all"],
        audience: "https://api.example.com",
      },
    });
  });

  it.each<[string, string, (c: ReturnType<typeof defaultConfig>) => unknown, unknown]>([
    ["runs.authMetadata.externalAuthServerBaseUrl", "http://idp:8080", (c) => c.runs.authMetadata.externalAuthServerBaseUrl, "http://idp:8080"],
    ["runs.authMetadata.externalMetadataUrl", "custom/metadata", (c) => c.runs.authMetadata.externalMetadataUrl, "custom/metadata"],
    ["runs.authMetadata.retryAttempts", "2", (c) => c.runs.authMetadata.retryAttempts, 2],
    ["runs.authMetadata.retryDelay", "2s", (c) => c.runs.authMetadata.retryDelay, 2_000],
    ["runs.authMetadata.authorizationMetadataKey", "x-token", (c) => c.runs.authMetadata.authorizationMetadataKey, "x-token"],
    ["runs.authMetadata.flyteClient.clientId", "cli", (c) => c.runs.authMetadata.flyteClient.clientId, "cli"],
    ["runs.authMetadata.flyteClient.redirectUri", "http://localhost/cb", (c) => c.runs.authMetadata.flyteClient.redirectUri, "http://localhost/cb"],
    ["runs.authMetadata.flyteClient.scopes", "a,b", (c) => c.runs.authMetadata.flyteClient.scopes, ["a", "b"]],
    ["runs.authMetadata.flyteClient.audience", "aud", (c) => c.runs.authMetadata.flyteClient.audience, "aud"],
  ])("--%s %s (a flag, as in the reference)", (flag, value, read, expected) => {
    expect(read(loadYaml(SQLITE_YAML, [`--${flag}`, value]))).toEqual(expected);
  });

  it("reads the environment too", () => {
    const cfg = loadYaml(SQLITE_YAML, [], { "RUNS.AUTHMETADATA.EXTERNALAUTHSERVERBASEURL": "https://env-idp" });
    expect(cfg.runs.authMetadata.externalAuthServerBaseUrl).toBe("https://env-idp");
  });

  it.each([
    ["externalAuthServerBaseUrl: idp.example.com", 'runs.authMetadata.externalAuthServerBaseUrl: must be an absolute URL such as "https://idp.example.com/oauth2/default", got "idp.example.com"'],
    ["externalAuthServerBaseUrl: ftp://idp", 'runs.authMetadata.externalAuthServerBaseUrl: must be an http(s) URL, got "ftp://idp"'],
    ["externalMetadataUrl: /.well-known/x", "runs.authMetadata.externalMetadataUrl: must be a path relative to runs.authMetadata.externalAuthServerBaseUrl"],
    ["externalMetadataUrl: https://other/x", "runs.authMetadata.externalMetadataUrl: must be a path relative to runs.authMetadata.externalAuthServerBaseUrl"],
    ["retryAttempts: -1", "runs.authMetadata.retryAttempts: must not be negative, got -1"],
    ["retryDelay: -1s", "runs.authMetadata.retryDelay: must not be a negative duration"],
  ])("refuses %s", (line, message) => {
    const error = configErrorOf(() => loadYaml(SQLITE_YAML + `runs:\n  authMetadata:\n    ${line}\n`));
    expect(error.message).toContain(`config: ${message}`);
  });

  it("accepts the reference's zero values (they mean the defaults there and here)", () => {
    const cfg = loadYaml(SQLITE_YAML + 'runs:\n  authMetadata:\n    retryAttempts: 0\n    retryDelay: 0s\n    externalMetadataUrl: ""\n');
    expect(cfg.runs.authMetadata.retryAttempts).toBe(0);
    expect(cfg.runs.authMetadata.externalMetadataUrl).toBe("");
  });
});

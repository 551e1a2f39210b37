import { describe, expect, it } from "vitest";
import { configErrorOf, loadYaml, SQLITE_YAML } from "./helpers.js";

describe("caller identity keys (runs/config/config.go at v2.0.43)", () => {
  it("default to trusting the AWS ALB headers, with no email header and no userinfo server", () => {
    const c = loadYaml(SQLITE_YAML);
    expect(c.runs.trustForwardedIdentityHeaders).toBe(true);
    expect(c.runs.identityHeaders).toEqual({ claimsJwtHeader: "X-Amzn-Oidc-Data", subjectHeader: "X-Amzn-Oidc-Identity", emailHeader: "" });
    expect(c.runs.authMetadata.externalAuthServerBaseUrl).toBe("");
  });

  it("are read from the file (any key case), so an oauth2-proxy setup can clear the claims header", () => {
    const c = loadYaml(
      `${SQLITE_YAML}runs:\n  trustforwardedidentityheaders: false\n  identityHeaders:\n    claimsJwtHeader: ""\n` +
        `    subjectHeader: X-Auth-Request-User\n    emailHeader: X-Auth-Request-Email\n` +
        `  authMetadata:\n    externalAuthServerBaseUrl: https://idp.example.com/oauth2/default\n`,
    );
    expect(c.runs.trustForwardedIdentityHeaders).toBe(false);
    expect(c.runs.identityHeaders).toEqual({ claimsJwtHeader: "", subjectHeader: "X-Auth-Request-User", emailHeader: "X-Auth-Request-Email" });
    expect(c.runs.authMetadata.externalAuthServerBaseUrl).toBe("https://idp.example.com/oauth2/default");
  });

  it("are read from flags and env vars", () => {
    const c = loadYaml(SQLITE_YAML, ["--runs.trustForwardedIdentityHeaders=false", "--runs.identityHeaders.emailHeader", "X-Email"], {
      "RUNS.IDENTITYHEADERS.SUBJECTHEADER": "X-User",
    });
    expect(c.runs.trustForwardedIdentityHeaders).toBe(false);
    expect(c.runs.identityHeaders.emailHeader).toBe("X-Email");
    expect(c.runs.identityHeaders.subjectHeader).toBe("X-User");
  });

  it("reject a header name that is not an HTTP token, naming the key", () => {
    const error = configErrorOf(() => loadYaml(`${SQLITE_YAML}runs:\n  identityHeaders:\n    subjectHeader: "X User"\n`));
    expect(error.message).toContain("runs.identityHeaders.subjectHeader");
    expect(error.message).toContain("HTTP header name");
  });

  it("reject an authorization server that is not an http(s) URL", () => {
    const error = configErrorOf(() => loadYaml(`${SQLITE_YAML}runs:\n  authMetadata:\n    externalAuthServerBaseUrl: idp.example.com\n`));
    expect(error.message).toContain("runs.authMetadata.externalAuthServerBaseUrl");
  });
});

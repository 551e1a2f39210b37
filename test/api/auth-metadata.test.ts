import http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthMetadataService } from "#gen/flyteidl2/auth/auth_service_pb.js";
import { startTestApp, TRANSPORTS, type TestApp } from "../support/app.js";
import { startFakeIdp, oktaLikeMetadata, type FakeIdp } from "../support/fake-idp.js";

const WELL_KNOWN = "/.well-known/oauth-authorization-server";

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

/** GET over HTTP/2 cleartext (prior knowledge), as gRPC clients connect. */
function getH2(baseUrl: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    session.on("error", reject);
    const req = session.request({ ":path": path, ":method": "GET" });
    let status = 0;
    let type = "";
    let body = "";
    req.on("response", (headers) => {
      status = Number(headers[":status"]);
      type = String(headers["content-type"] ?? "");
    });
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      session.close();
      resolve({ status, type, body });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("AuthMetadataService and the well-known endpoint over a real server, with an IdP", () => {
  let idp: FakeIdp;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp(() => ({ body: oktaLikeMetadata("https://idp.example.com/oauth2/default") }));
    t = await startTestApp("sqlite", (c) => {
      c.runs.authMetadata.externalAuthServerBaseUrl = `${idp.url}/oauth2/default`;
      c.runs.authMetadata.flyteClient = { clientId: "flytectl", redirectUri: "http://localhost:53593/callback", scopes: ["all", "offline"], audience: "" };
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it.each(TRANSPORTS)("answers GetOAuth2Metadata and GetPublicClientConfig over %s", async (name) => {
    const c = createClient(AuthMetadataService, t.transports[name]);
    const md = await c.getOAuth2Metadata({});
    expect(md.issuer).toBe("https://idp.example.com/oauth2/default");
    expect(md.tokenEndpoint).toBe("https://idp.example.com/oauth2/default/v1/token");
    const pc = await c.getPublicClientConfig({});
    expect(pc.clientId).toBe("flytectl");
    expect(pc.scopes).toEqual(["all", "offline"]);
    expect(pc.authorizationMetadataKey).toBe("authorization");
    expect(pc.dataplaneDomain).toBe("");
  });

  it("serves the same document as proto3 JSON at the well-known path over HTTP/1.1 and HTTP/2", async () => {
    const res = await fetch(`${t.baseUrl}${WELL_KNOWN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe("https://idp.example.com/oauth2/default");
    expect(doc.tokenEndpoint).toBe("https://idp.example.com/oauth2/default/v1/token");
    expect(doc.jwksUri).toBe("https://idp.example.com/oauth2/default/v1/keys");
    expect(doc).not.toHaveProperty("introspection_endpoint");
    const h2 = await getH2(t.baseUrl, WELL_KNOWN);
    expect(h2.status).toBe(200);
    expect(JSON.parse(h2.body)).toEqual(doc);
  });

  it("refuses other methods with 405 and Allow: GET", async () => {
    const res = await fetch(`${t.baseUrl}${WELL_KNOWN}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });
});

describe("a failing IdP over a real server", () => {
  let idp: FakeIdp;
  let t: TestApp;
  beforeAll(async () => {
    idp = await startFakeIdp(() => ({ status: 500 }));
    t = await startTestApp("sqlite", (c) => {
      c.runs.authMetadata.externalAuthServerBaseUrl = idp.url;
      c.runs.authMetadata.retryAttempts = 2;
      c.runs.authMetadata.retryDelay = 1;
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it("answers Unavailable over RPC and 503 at the well-known path, after the configured attempts", async () => {
    const c = createClient(AuthMetadataService, t.transports["connect-h2"]);
    expect(await codeOf(c.getOAuth2Metadata({}))).toBe(Code.Unavailable);
    expect(idp.requests).toHaveLength(2);
    const res = await fetch(`${t.baseUrl}${WELL_KNOWN}`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("2 attempt(s) failed");
    expect(idp.requests).toHaveLength(4);
  });
});

describe("the well-known endpoint without an external server", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp("sqlite");
  });
  afterAll(async () => t?.close());

  it("answers 501 and the RPC Unimplemented", async () => {
    const res = await fetch(`${t.baseUrl}${WELL_KNOWN}`);
    expect(res.status).toBe(501);
    expect(await res.text()).toContain("runs.authMetadata.externalAuthServerBaseUrl");
    const c = createClient(AuthMetadataService, t.transports.grpc);
    expect(await codeOf(c.getOAuth2Metadata({}))).toBe(Code.Unimplemented);
  });
});

import http from "node:http";
import { freePort } from "./ports.js";

/** What the fake IdP answers to one request: status, headers and body. */
export interface IdpAnswer {
  status?: number;
  type?: string;
  body?: string | Buffer;
}

export interface FakeIdp {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Paths of the requests received so far, in order. */
  readonly requests: string[];
  /** Replaces the answer; called with the 1-based number of the request. */
  answer(fn: (n: number, path: string) => IdpAnswer): void;
  close(): Promise<void>;
}

/** A small OAuth2 authorization server stand-in on a free loopback port. */
export async function startFakeIdp(fn: (n: number, path: string) => IdpAnswer): Promise<FakeIdp> {
  let handler = fn;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? "";
    requests.push(path);
    const a = handler(requests.length, path);
    res.writeHead(a.status ?? 200, { "Content-Type": a.type ?? "application/json" });
    res.end(a.body ?? "");
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** RFC 8414 metadata as an IdP such as Okta sends it: snake_case, with fields the IDL does not model. */
export function oktaLikeMetadata(issuer: string): string {
  return JSON.stringify({
    issuer,
    authorization_endpoint: `${issuer}/v1/authorize`,
    token_endpoint: `${issuer}/v1/token`,
    jwks_uri: `${issuer}/v1/keys`,
    introspection_endpoint: `${issuer}/v1/introspect`,
    response_types_supported: ["code"],
    response_modes_supported: ["query", "fragment", "form_post"],
    grant_types_supported: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
    device_authorization_endpoint: `${issuer}/v1/device/authorize`,
    claims_supported: ["iss", "sub", "aud"],
  });
}

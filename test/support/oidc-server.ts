import http from "node:http";
import type { AddressInfo } from "node:net";

export interface TestIdpOptions {
  /** userinfo's answer for an Authorization header value: status and body text. */
  userinfo: (authorization: string | undefined) => { status: number; body: string };
  /** Held back before answering userinfo (ms); for timeout tests. */
  userinfoDelayMs?: number;
  /** The discovery document's body; default points userinfo_endpoint at /v1/userinfo. */
  discovery?: (baseUrl: string) => { status: number; body: string };
}

export interface TestIdp {
  baseUrl: string;
  /** Requests seen so far, by path. */
  hits: { discovery: number; userinfo: number };
  /** Authorization headers userinfo received, in order. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/** A small OIDC provider on a free loopback port: discovery plus userinfo. */
export async function startTestIdp(opts: TestIdpOptions): Promise<TestIdp> {
  const hits = { discovery: 0, userinfo: 0 };
  const authorizations: (string | undefined)[] = [];
  let baseUrl = "";
  const server = http.createServer((req, res) => {
    const send = ({ status, body }: { status: number; body: string }) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    };
    if (req.url === "/.well-known/openid-configuration") {
      hits.discovery++;
      send(opts.discovery?.(baseUrl) ?? { status: 200, body: JSON.stringify({ userinfo_endpoint: `${baseUrl}/v1/userinfo` }) });
    } else if (req.url === "/v1/userinfo") {
      hits.userinfo++;
      authorizations.push(req.headers.authorization);
      const answer = opts.userinfo(req.headers.authorization);
      if (opts.userinfoDelayMs) setTimeout(() => send(answer), opts.userinfoDelayMs).unref();
      else send(answer);
    } else {
      send({ status: 404, body: "{}" });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    hits,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An unsigned JWT with the given payload (what the proxy forwards; nothing here checks signatures). */
export function unsignedJwt(payload: object, opts: { padded?: boolean } = {}): string {
  const enc = (text: string) => Buffer.from(text).toString("base64url");
  let body = enc(JSON.stringify(payload));
  if (opts.padded) body = Buffer.from(JSON.stringify(payload)).toString("base64").replaceAll("+", "-").replaceAll("/", "_");
  return `${enc(JSON.stringify({ alg: "RS256" }))}.${body}.sig`;
}

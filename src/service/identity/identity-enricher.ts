/**
 * Fills in name and email of a Bearer-token caller from the OIDC userinfo
 * endpoint (runs/service/identity_enricher.go at v2.0.43). An access token
 * often carries only a subject — sometimes the client's, not the user's — so
 * userinfo's subject and profile replace the token's. Best effort: any failure
 * leaves the identity as it came.
 */
import { createHash } from "node:crypto";
import type { EnrichedIdentity } from "#gen/flyteidl2/common/identity_pb.js";
import type { Logger } from "pino";
import type { Clock } from "../../util/clock.js";
import { AUTHORIZATION_HEADER, identitySubject, mergeClaims, subjectOnlyIdentity, type Enricher, type OidcClaims } from "./forwarded-identity.js";

export const USERINFO_TIMEOUT_MS = 3_000;
export const IDENTITY_CACHE_TTL_MS = 24 * 60 * 60_000;
const DISCOVERY_PATH = "/.well-known/openid-configuration";

export interface IdentityEnricherOptions {
  /** Authorization server base URL, e.g. https://idp.example.com/oauth2/default; trailing "/" ignored. */
  authServerBaseUrl: string;
  logger: Logger;
  clock: Clock;
  /** Bound on each discovery / userinfo request (ms). Default 3 s, as the reference. */
  timeoutMs?: number;
  /** How long a token's userinfo answer is reused (ms). Default 24 h, as the reference. */
  cacheTtlMs?: number;
  /** Most tokens cached at once; the oldest entry goes first. Default 10,000 (the reference has no bound). */
  maxCacheEntries?: number;
}

export interface IdentityEnricher extends Enricher {
  /** Userinfo answers currently cached (one per access token). */
  cacheSize(): number;
}

/** An enricher for the given server, or undefined when the URL is empty (identities stay as decoded). */
export function createIdentityEnricher(opts: IdentityEnricherOptions): IdentityEnricher | undefined {
  const base = opts.authServerBaseUrl.trim().replace(/\/+$/, "");
  if (base === "") return undefined;
  const timeoutMs = opts.timeoutMs ?? USERINFO_TIMEOUT_MS;
  const ttlMs = opts.cacheTtlMs ?? IDENTITY_CACHE_TTL_MS;
  const maxEntries = Math.max(1, opts.maxCacheEntries ?? 10_000);
  const { clock, logger } = opts;
  // Keyed by a hash of the access token, never by the token's subject: that may
  // be a client id shared by many users, and would hand one user's profile to another.
  const cache = new Map<string, { claims: OidcClaims; expiresMs: number }>();
  let userinfoUrl: string | undefined;

  async function getJson(url: string, headers: Record<string, string>, what: string): Promise<unknown> {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`${what} returned status ${res.status}`);
    }
    try {
      return await res.json();
    } catch (error) {
      throw new Error(`decode ${what}: ${(error as Error).message}`);
    }
  }

  async function resolveUserinfoUrl(): Promise<string> {
    if (userinfoUrl) return userinfoUrl;
    const doc = (await getJson(base + DISCOVERY_PATH, {}, "oidc discovery")) as { userinfo_endpoint?: unknown } | null;
    const url = doc && typeof doc.userinfo_endpoint === "string" ? doc.userinfo_endpoint : "";
    if (url === "") throw new Error("oidc discovery has no userinfo_endpoint");
    userinfoUrl = url;
    return url;
  }

  async function fetchUserinfo(accessToken: string): Promise<OidcClaims> {
    const url = await resolveUserinfoUrl();
    const body = await getJson(url, { [AUTHORIZATION_HEADER]: `Bearer ${accessToken}` }, "userinfo");
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw new Error("decode userinfo: not a JSON object");
    const claims: OidcClaims = {};
    for (const name of ["sub", "email", "given_name", "family_name"] as const) {
      const value = (body as Record<string, unknown>)[name];
      if (value === undefined || value === null) continue;
      if (typeof value !== "string") throw new Error(`decode userinfo: ${name} is not a string`);
      claims[name] = value;
    }
    return claims;
  }

  function cached(key: string): OidcClaims | undefined {
    const entry = cache.get(key);
    if (!entry) return undefined;
    if (clock.nowMs() > entry.expiresMs) {
      cache.delete(key);
      return undefined;
    }
    return entry.claims;
  }

  return {
    cacheSize: () => cache.size,
    async enrich(accessToken, identity) {
      if (identity.principal.case !== "user") return identity;
      const tokenSubject = identitySubject(identity);
      if (tokenSubject === "" || accessToken === "" || isCompleteProfile(identity)) return identity;
      const key = createHash("sha256").update(accessToken).digest("hex");
      let claims = cached(key);
      if (!claims) {
        let fetched: OidcClaims;
        try {
          fetched = await fetchUserinfo(accessToken);
        } catch (error) {
          logger.warn({ subject: tokenSubject, err: (error as Error).message }, "identity enrichment: userinfo fetch failed");
          return identity;
        }
        if (!fetched.sub) {
          logger.warn({ subject: tokenSubject }, "identity enrichment: userinfo returned no subject; keeping the token's");
          return identity;
        }
        cache.set(key, { claims: fetched, expiresMs: clock.nowMs() + ttlMs });
        if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
        claims = fetched;
      }
      return mergeClaims(subjectOnlyIdentity(claims.sub!), claims);
    },
  };
}

function isCompleteProfile(identity: EnrichedIdentity): boolean {
  const spec = identity.principal.case === "user" ? identity.principal.value.spec : undefined;
  return !!spec?.firstName && !!spec.lastName && !!spec.email;
}

/**
 * The caller's identity from the headers an authenticating proxy forwards
 * (runs/service/identity.go at v2.0.43). The proxy is trusted to have checked
 * the tokens: JWT payloads are decoded here, their signatures are not verified.
 */
import { create } from "@bufbuild/protobuf";
import { EnrichedIdentitySchema, UserSpecSchema, type EnrichedIdentity } from "#gen/flyteidl2/common/identity_pb.js";
import type { IdentityHeadersConfig } from "../../config/index.js";

/** Always read (SDK/CLI path), whatever the configured header names. */
export const AUTHORIZATION_HEADER = "Authorization";
const BEARER_PREFIX = "bearer ";

/** The OIDC claims surfaced as the caller's profile. */
export interface OidcClaims {
  sub?: string;
  email?: string;
  given_name?: string;
  family_name?: string;
}

/** The part of an identity enricher resolveIdentity needs (see ./identity-enricher.ts). */
export interface Enricher {
  enrich(accessToken: string, base: EnrichedIdentity): Promise<EnrichedIdentity>;
}

function header(headers: Headers, name: string): string {
  return name === "" ? "" : (headers.get(name) ?? "").trim();
}

/** A user identity carrying only its subject. */
export function subjectOnlyIdentity(subject: string): EnrichedIdentity {
  return create(EnrichedIdentitySchema, { principal: { case: "user", value: { id: { subject } } } });
}

/** The subject of a user identity, "" for anything else. */
export function identitySubject(identity: EnrichedIdentity | undefined): string {
  return identity?.principal.case === "user" ? (identity.principal.value.id?.subject ?? "") : "";
}

/**
 * Fills the profile fields (first/last name, email) `base` lacks from the
 * claims; what base already has is kept. Mutates and returns base.
 */
export function mergeClaims(base: EnrichedIdentity, claims: OidcClaims | undefined): EnrichedIdentity {
  if (!claims || base.principal.case !== "user") return base;
  const user = base.principal.value;
  const firstName = user.spec?.firstName || str(claims.given_name);
  const lastName = user.spec?.lastName || str(claims.family_name);
  const email = user.spec?.email || str(claims.email);
  if (firstName || lastName || email) user.spec = create(UserSpecSchema, { firstName, lastName, email });
  return base;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * base64url, padded or not (AWS ALB pads its claims JWT, the JWT spec does
 * not). Undefined for anything outside the alphabet.
 */
export function decodeJwtSegment(segment: string): Buffer | undefined {
  const unpadded = segment.replace(/=+$/, "");
  if (!/^[A-Za-z0-9_-]*$/.test(unpadded) || unpadded.length % 4 === 1) return undefined;
  return Buffer.from(unpadded, "base64url");
}

const CLAIM_NAMES = ["sub", "email", "given_name", "family_name"] as const;

/** The identity in a JWT's payload; undefined when malformed or without `sub`. No signature check. */
export function identityFromJwt(token: string): EnrichedIdentity | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const payload = decodeJwtSegment(parts[1]!);
  if (!payload) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  if (claims === null || typeof claims !== "object" || Array.isArray(claims)) return undefined;
  const c = claims as Record<string, unknown>;
  // A claim of the wrong type makes the whole payload unreadable, as a typed JSON decode would.
  if (CLAIM_NAMES.some((name) => c[name] !== undefined && c[name] !== null && typeof c[name] !== "string")) return undefined;
  const sub = str(c.sub);
  if (sub === "") return undefined;
  return mergeClaims(subjectOnlyIdentity(sub), c as OidcClaims);
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive), or "". */
export function bearerToken(headers: Headers): string {
  const value = headers.get(AUTHORIZATION_HEADER) ?? "";
  if (value.length <= BEARER_PREFIX.length || value.slice(0, BEARER_PREFIX.length).toLowerCase() !== BEARER_PREFIX) return "";
  return value.slice(BEARER_PREFIX.length).trim();
}

/** Which header established the identity. */
export type IdentitySource = "claimsJwt" | "subject" | "bearer";

/**
 * The caller's identity, first match wins: the claims JWT header, then the
 * subject header (plus the email header), then the Bearer token's payload.
 * Undefined when none of them names a subject.
 */
export function identityFromHeaders(
  headers: Headers,
  cfg: IdentityHeadersConfig,
): { identity: EnrichedIdentity; source: IdentitySource } | undefined {
  const claimsJwt = header(headers, cfg.claimsJwtHeader);
  if (claimsJwt !== "") {
    const identity = identityFromJwt(claimsJwt);
    if (identity) return { identity, source: "claimsJwt" };
  }
  const subject = header(headers, cfg.subjectHeader);
  if (subject !== "") {
    const identity = subjectOnlyIdentity(subject);
    const email = header(headers, cfg.emailHeader);
    if (email !== "" && identity.principal.case === "user") identity.principal.value.spec = create(UserSpecSchema, { email });
    return { identity, source: "subject" };
  }
  const token = bearerToken(headers);
  if (token !== "") {
    const identity = identityFromJwt(token);
    if (identity) return { identity, source: "bearer" };
  }
  return undefined;
}

/**
 * identityFromHeaders, then — only when the Bearer token itself was the
 * source — userinfo enrichment. An identity a proxy header established is
 * never enriched: the forwarded access token may be stale or someone else's,
 * and userinfo's subject would replace the proxy's.
 */
export async function resolveIdentity(
  headers: Headers,
  cfg: IdentityHeadersConfig,
  enricher: Enricher | undefined,
): Promise<EnrichedIdentity | undefined> {
  const found = identityFromHeaders(headers, cfg);
  if (!found) return undefined;
  if (found.source !== "bearer" || !enricher) return found.identity;
  return enricher.enrich(bearerToken(headers), found.identity);
}

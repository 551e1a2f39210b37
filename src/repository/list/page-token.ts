/**
 * Page tokens: base64url of a small versioned JSON object
 *   { "v": 1, "s": <scope hash>, "k": [<last row's sort values, then key values>] }
 * Values are strings (text, canonical timestamps, ints as decimal, bytes as
 * base64), booleans, or null. The scope hash ties a token to the list, its
 * filters and its order, so a token cannot be replayed against another one.
 * Tokens are opaque to clients but not secret or signed: a hand-edited token
 * can only move the start position of a page the caller may already list.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../errors.js";

export const PAGE_TOKEN_VERSION = 1;
const MAX_TOKEN_LENGTH = 8192;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;

export type TokenValue = string | boolean | null;

export interface PageTokenContent {
  readonly scopeHash: string;
  readonly values: readonly TokenValue[];
}

/** Short, stable hash of a list scope (16 base64url characters of SHA-256). */
export function hashScope(scope: string): string {
  return createHash("sha256").update(scope, "utf8").digest("base64url").slice(0, 16);
}

export function encodePageToken(content: PageTokenContent): string {
  const json = JSON.stringify({ v: PAGE_TOKEN_VERSION, s: content.scopeHash, k: content.values });
  return Buffer.from(json, "utf8").toString("base64url");
}

function invalid(reason: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid token: ${reason}`);
}

/** Decodes a token's structure; InvalidArgumentError "invalid token: …" when it is not one of ours. */
export function decodePageToken(token: string): PageTokenContent {
  if (token.length > MAX_TOKEN_LENGTH) throw invalid("too long");
  if (!BASE64URL_RE.test(token)) throw invalid("not a page token returned by this list");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid("not a page token returned by this list");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid("not a page token returned by this list");
  }
  const { v, s, k } = parsed as Record<string, unknown>;
  if (v !== PAGE_TOKEN_VERSION) throw invalid(`unsupported token version ${JSON.stringify(v)}`);
  if (typeof s !== "string" || !Array.isArray(k)) throw invalid("malformed page token");
  for (const value of k) {
    if (value !== null && typeof value !== "string" && typeof value !== "boolean") {
      throw invalid("malformed page token");
    }
  }
  return { scopeHash: s, values: k as TokenValue[] };
}

// The external authorization server's OAuth2 metadata (RFC 8414), fetched
// with retries and kept in memory for a while. Served by
// AuthMetadataService.GetOAuth2Metadata and by the plain-HTTP
// /.well-known/oauth-authorization-server (src/server/well-known.ts).

import { clone, fromJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  GetOAuth2MetadataResponseSchema,
  type GetOAuth2MetadataResponse,
} from "#gen/flyteidl2/auth/auth_service_pb.js";
import type { AuthMetadataConfig } from "../config/index.js";
import { systemClock, type Clock } from "../util/clock.js";

export const DEFAULT_METADATA_PATH = ".well-known/oauth-authorization-server";
export const DEFAULT_RETRY_ATTEMPTS = 5;
export const DEFAULT_RETRY_DELAY_MS = 1_000;
/** Metadata documents are a few KB; a larger answer is a misconfigured upstream. */
export const MAX_METADATA_BYTES = 1 << 20;

export interface OAuth2MetadataSourceOptions {
  /** runs.authMetadata; an empty externalAuthServerBaseUrl means "not configured". */
  config: AuthMetadataConfig;
  logger: Logger;
  /** Cache expiry is measured on it. Default: the wall clock. */
  clock?: Clock;
  /** Limit of one attempt, body included (ms). Default 10 s, as the reference. */
  attemptTimeoutMs?: number;
  /** How long a fetched document is served from memory (ms). Default 5 min, as the reference. */
  cacheTtlMs?: number;
}

export interface OAuth2MetadataSource {
  /**
   * The upstream document, from the cache while fresh. Fails with a
   * ConnectError: Unimplemented when not configured, Unavailable when every
   * attempt failed, Internal for a 4xx answer (not retried) or a document
   * that is too large or does not decode, Canceled / DeadlineExceeded when
   * `signal` ends the wait.
   */
  get(signal?: AbortSignal): Promise<GetOAuth2MetadataResponse>;
}

/** The document's URL: the metadata path resolved against the base URL taken as a folder. */
export function metadataUrl(config: AuthMetadataConfig): URL {
  let base: URL;
  try {
    base = new URL(config.externalAuthServerBaseUrl);
  } catch {
    throw new ConnectError(
      `runs.authMetadata.externalAuthServerBaseUrl must be an absolute URL (scheme and host), got ${JSON.stringify(config.externalAuthServerBaseUrl)}`,
      Code.Internal,
    );
  }
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const path = config.externalMetadataUrl || DEFAULT_METADATA_PATH;
  if (path.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(path)) {
    throw new ConnectError(
      `runs.authMetadata.externalMetadataUrl must be relative to externalAuthServerBaseUrl (no scheme, host or leading '/'), got ${JSON.stringify(path)}`,
      Code.Internal,
    );
  }
  return new URL(path, base);
}

export function createOAuth2MetadataSource(opts: OAuth2MetadataSourceOptions): OAuth2MetadataSource {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock();
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? 10_000;
  const cacheTtlMs = opts.cacheTtlMs ?? 5 * 60_000;
  const attempts = config.retryAttempts > 0 ? config.retryAttempts : DEFAULT_RETRY_ATTEMPTS;
  const delayMs = config.retryDelay > 0 ? config.retryDelay : DEFAULT_RETRY_DELAY_MS;
  let cached: { doc: GetOAuth2MetadataResponse; until: number } | undefined;

  return {
    async get(signal) {
      if (config.externalAuthServerBaseUrl === "") {
        throw new ConnectError(
          "OAuth2 metadata is not configured; set runs.authMetadata.externalAuthServerBaseUrl",
          Code.Unimplemented,
        );
      }
      if (cached && clock.nowMs() < cached.until) return clone(GetOAuth2MetadataResponseSchema, cached.doc);
      const url = metadataUrl(config);
      const doc = await fetchWithRetries(url, { attempts, delayMs, attemptTimeoutMs, logger, signal });
      // Only successes are kept, so a failing upstream is asked again on the next call.
      cached = { doc: clone(GetOAuth2MetadataResponseSchema, doc), until: clock.nowMs() + cacheTtlMs };
      return doc;
    },
  };
}

interface FetchOptions {
  attempts: number;
  delayMs: number;
  attemptTimeoutMs: number;
  logger: Logger;
  signal: AbortSignal | undefined;
}

async function fetchWithRetries(url: URL, o: FetchOptions): Promise<GetOAuth2MetadataResponse> {
  let lastProblem = "";
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    if (attempt > 1) await sleep(o.delayMs, o.signal);
    throwIfCallerGone(o.signal);
    const attemptSignal = o.signal
      ? AbortSignal.any([o.signal, AbortSignal.timeout(o.attemptTimeoutMs)])
      : AbortSignal.timeout(o.attemptTimeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { signal: attemptSignal, headers: { accept: "application/json" } });
    } catch (error) {
      throwIfCallerGone(o.signal);
      lastProblem = describeFetchError(error);
      o.logger.warn({ url: url.href, attempt, attempts: o.attempts, err: lastProblem }, "OAuth2 metadata fetch failed");
      continue;
    }
    if (res.ok) return decode(res, await readLimited(res, url, attemptSignal, o.signal));
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 400 && res.status < 500) {
      // A request or configuration problem on our side: asking again will not help.
      throw new ConnectError(`OAuth2 metadata: ${url.href} answered status ${res.status}, which is not retried`, Code.Internal);
    }
    lastProblem = `status ${res.status}`;
    o.logger.warn({ url: url.href, attempt, attempts: o.attempts, status: res.status }, "OAuth2 metadata fetch failed");
  }
  throw new ConnectError(
    `failed to fetch OAuth2 metadata from ${url.href}: ${o.attempts} attempt(s) failed, the last with ${lastProblem}`,
    Code.Unavailable,
  );
}

/** Reads the body, refusing more than MAX_METADATA_BYTES. */
async function readLimited(res: Response, url: URL, attemptSignal: AbortSignal, caller: AbortSignal | undefined): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_METADATA_BYTES) {
        await res.body?.cancel().catch(() => undefined);
        throw new ConnectError(`OAuth2 metadata from ${url.href} exceeds ${MAX_METADATA_BYTES} bytes`, Code.Internal);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof ConnectError) throw error;
    throwIfCallerGone(caller);
    const why = attemptSignal.aborted ? "timed out" : describeFetchError(error);
    throw new ConnectError(`failed to read OAuth2 metadata from ${url.href}: ${why}`, Code.Internal, undefined, undefined, error);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** JSON with either camelCase or snake_case names; fields this IDL does not model (most IdPs send many) are dropped. */
function decode(res: Response, text: string): GetOAuth2MetadataResponse {
  try {
    return fromJsonString(GetOAuth2MetadataResponseSchema, text, { ignoreUnknownFields: true });
  } catch (error) {
    const type = res.headers.get("content-type") ?? "";
    const hint = type.split(";")[0].trim().toLowerCase() === "application/json" ? "" : ` (Content-Type ${JSON.stringify(type)}, expected application/json)`;
    throw new ConnectError(
      `OAuth2 metadata from ${res.url} does not decode${hint}: ${(error as Error).message}`,
      Code.Internal,
      undefined,
      undefined,
      error,
    );
  }
}

function throwIfCallerGone(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason = ConnectError.from(signal.reason);
  throw reason.code === Code.DeadlineExceeded
    ? reason
    : new ConnectError("the call was canceled while fetching OAuth2 metadata", Code.Canceled, undefined, undefined, signal.reason);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      try {
        throwIfCallerGone(signal);
      } catch (error) {
        reject(error);
      }
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "a timeout";
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : "";
  return detail ? `${error.message} (${detail})` : error.message;
}

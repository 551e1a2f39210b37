import type { Interceptor } from "@connectrpc/connect";
import type { IdentityHeadersConfig } from "../../config/index.js";
import { callerIdentityKey, type CallerIdentity } from "../../service/identity/caller-identity.js";
import { resolveIdentity, type Enricher } from "../../service/identity/forwarded-identity.js";

export interface IdentityInterceptorOptions {
  /** runs.trustForwardedIdentityHeaders: when false no request has an identity. */
  trustForwardedHeaders: boolean;
  /** runs.identityHeaders. */
  headers: IdentityHeadersConfig;
  /** Userinfo enrichment for Bearer callers; undefined leaves identities as decoded. */
  enricher: Enricher | undefined;
}

/**
 * Puts the caller's identity, read from the proxy-forwarded headers, into the
 * request's ContextValues (see callerIdentityKey). Resolution is lazy and done
 * at most once per request.
 */
export function identityInterceptor(opts: IdentityInterceptorOptions): Interceptor {
  return (next) => (req) => {
    if (opts.trustForwardedHeaders) {
      let resolved: ReturnType<CallerIdentity> | undefined;
      const headers = req.header;
      const identity: CallerIdentity = () => (resolved ??= resolveIdentity(headers, opts.headers, opts.enricher));
      req.contextValues.set(callerIdentityKey, identity);
    }
    return next(req);
  };
}

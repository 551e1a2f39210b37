/** The caller's identity as per-request data (Connect ContextValues), set by the identity interceptor. */
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { EnrichedIdentity } from "#gen/flyteidl2/common/identity_pb.js";

/**
 * Resolves the caller's identity on first use (userinfo enrichment may call
 * the authorization server, so only handlers that need it pay for it);
 * later calls share the answer. Undefined: no identity, or headers not trusted.
 */
export type CallerIdentity = () => Promise<EnrichedIdentity | undefined>;

const NONE: CallerIdentity = () => Promise.resolve(undefined);

/** Without the interceptor (in-process calls, tests) there is no caller identity. */
export const callerIdentityKey = createContextKey<CallerIdentity>(NONE, { description: "caller identity" });

export function callerIdentity(ctx: Pick<HandlerContext, "values">): Promise<EnrichedIdentity | undefined> {
  return ctx.values.get(callerIdentityKey)();
}

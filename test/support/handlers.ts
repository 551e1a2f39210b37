import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";

type Methods = Record<string, { input: DescMessage; output: DescMessage }>;

/** A service implementation with every unary method typed as returning a promise of its response message. */
export type Handlers<S extends { method: Methods }> = {
  [K in keyof S["method"]]: (
    req: MessageShape<S["method"][K]["input"]>,
    ctx?: unknown,
  ) => Promise<MessageShape<S["method"][K]["output"]>>;
};

/** Calls handlers directly (no server, no interceptors); the context is unused by these services. */
export function handlers<S extends { method: Methods }>(_service: S, impl: Partial<ServiceImpl<any>>): Handlers<S> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(impl)) {
    out[name] = (req: unknown, ctx?: unknown) => Promise.resolve((fn as (r: unknown, c: unknown) => unknown)(req, ctx ?? {}));
  }
  return out as Handlers<S>;
}

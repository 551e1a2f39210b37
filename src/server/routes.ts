import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ConnectRouterOptions, ServiceImpl } from "@connectrpc/connect";
import { Health } from "#gen/grpc/health/v1/health_pb.js";
import { registerHealth } from "./grpc-health.js";
import { registerReflection } from "./reflection.js";

/** Handler options of one method that differ from the router's (e.g. compression). */
export type MethodOptions = Pick<ConnectRouterOptions, "compressMinBytes">;

/** One mounted service: its descriptor and implementation, and per-method handler options. */
export interface MountedService<S extends DescService = DescService> {
  service: S;
  impl: Partial<ServiceImpl<S>>;
  methodOptions?: Partial<Record<keyof ServiceImpl<S>, MethodOptions>>;
}

export function mount<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  methodOptions?: Partial<Record<keyof ServiceImpl<S>, MethodOptions>>,
): MountedService {
  return { service, impl, methodOptions } as unknown as MountedService;
}

/**
 * A method with options of its own is registered again after its service,
 * with the router's options plus its own; the request handler keeps the last
 * handler of a path (createRequestHandler), so this one serves it.
 */
function registerMethodOptions(router: ConnectRouter, m: MountedService): void {
  for (const [name, options] of Object.entries(m.methodOptions ?? {})) {
    const method = m.service.methods.find((x) => x.localName === name);
    const impl = (m.impl as Record<string, unknown>)[name];
    if (!method || impl === undefined || options === undefined) continue;
    router.rpc(method, impl as never, options);
  }
}

export interface RoutesOptions {
  services: MountedService[];
  /** Serving status for grpc.health.v1.Health. */
  healthy: () => Promise<boolean>;
}

/** Registers the application services plus gRPC health and reflection on a router. */
export function buildRoutes(opts: RoutesOptions): (router: ConnectRouter) => void {
  return (router) => {
    for (const m of opts.services) {
      router.service(m.service, m.impl);
      registerMethodOptions(router, m);
    }
    const names = opts.services.map((s) => s.service.typeName);
    registerHealth(router, { check: opts.healthy, services: names });
    // Reflection lists everything mounted, itself and health included.
    registerReflection(router, [...opts.services.map((s) => s.service), Health]);
  };
}

import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { Health } from "#gen/grpc/health/v1/health_pb.js";
import { registerHealth } from "./grpc-health.js";
import { registerReflection } from "./reflection.js";

/** One mounted service: its descriptor and implementation. */
export interface MountedService<S extends DescService = DescService> {
  service: S;
  impl: Partial<ServiceImpl<S>>;
}

export function mount<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): MountedService {
  return { service, impl } as unknown as MountedService;
}

export interface RoutesOptions {
  services: MountedService[];
  /** Serving status for grpc.health.v1.Health. */
  healthy: () => Promise<boolean>;
}

/** Registers the application services plus gRPC health and reflection on a router. */
export function buildRoutes(opts: RoutesOptions): (router: ConnectRouter) => void {
  return (router) => {
    for (const { service, impl } of opts.services) router.service(service, impl);
    const names = opts.services.map((s) => s.service.typeName);
    registerHealth(router, { check: opts.healthy, services: names });
    // Reflection lists everything mounted, itself and health included.
    registerReflection(router, [...opts.services.map((s) => s.service), Health]);
  };
}

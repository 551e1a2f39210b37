// gRPC health checking protocol (grpc.health.v1.Health).
//
// One readiness function decides the status of the whole server: the overall
// status (service "") and each mounted service share it.
//  - Check: SERVING when check() resolves true, NOT_SERVING when it resolves
//    false or throws; an unknown service name is NOT_FOUND.
//  - Watch: sends the current status at once, then polls and sends only
//    changes until the client cancels. An unknown service gets
//    SERVICE_UNKNOWN (as the health protocol specifies for Watch) and the
//    stream stays open.
//  - List: the status of "" and of every mounted service.

import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthListResponseSchema,
} from "#gen/grpc/health/v1/health_pb.js";
import type { HealthCheckResponse } from "#gen/grpc/health/v1/health_pb.js";

export interface HealthOptions {
  /** Resolves true when the server can serve; false or a rejection means not. */
  check: () => Promise<boolean>;
  /** Fully-qualified names of the mounted services ("" is always known). */
  services: string[];
  /** Poll interval for Watch, in milliseconds. Default 5000. */
  pollIntervalMs?: number;
}

export const DEFAULT_HEALTH_POLL_INTERVAL_MS = 5000;

/** Mount grpc.health.v1.Health on the router. */
export function registerHealth(router: ConnectRouter, opts: HealthOptions): void {
  const known = new Set<string>(["", ...opts.services]);
  const interval = opts.pollIntervalMs ?? DEFAULT_HEALTH_POLL_INTERVAL_MS;

  const status = async (): Promise<ServingStatus> => {
    try {
      return (await opts.check()) ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    } catch {
      return ServingStatus.NOT_SERVING;
    }
  };
  const response = (s: ServingStatus): HealthCheckResponse => create(HealthCheckResponseSchema, { status: s });

  router.service(Health, {
    async check(req) {
      if (!known.has(req.service)) {
        throw new ConnectError(`unknown service: ${req.service}`, Code.NotFound);
      }
      return response(await status());
    },

    async *watch(req, ctx) {
      const signal = ctx.signal;
      if (!known.has(req.service)) {
        yield response(ServingStatus.SERVICE_UNKNOWN);
        // The set of services is fixed: nothing will change; hold the stream
        // open until the client goes away.
        await waitForAbort(signal);
        return;
      }
      let last = await status();
      yield response(last);
      while (!signal.aborted) {
        try {
          await sleep(interval, undefined, { signal });
        } catch {
          return; // aborted
        }
        const now = await status();
        if (signal.aborted) return;
        if (now !== last) {
          last = now;
          yield response(now);
        }
      }
    },

    async list() {
      const s = await status();
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const name of known) statuses[name] = response(s);
      return create(HealthListResponseSchema, { statuses });
    },
  });
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/**
 * The in-driver flyteidl2.actions.ActionsService the port enqueues into:
 * Enqueue and Abort are accepted at once. It listens with the port's own
 * listener (HTTP/1.1 and h2c on one port), so it serves whichever HTTP
 * version the port's ActionsService client uses.
 */
import { connectNodeAdapter } from "@connectrpc/connect-node";
import pino from "pino";
import { ActionsService } from "#gen/flyteidl2/actions/actions_service_pb.js";
import { startHttpServer } from "../../src/server/http-server.js";

export interface ActionsStub {
  readonly url: string;
  /** Enqueue calls received so far. */
  enqueued(): number;
  close(): Promise<void>;
}

export async function startActionsStub(): Promise<ActionsStub> {
  return startActionsStubOn(0);
}

/** The stub on a given port (0 = any free one). */
export async function startActionsStubOn(listenPort: number): Promise<ActionsStub> {
  let enqueued = 0;
  const handler = connectNodeAdapter({
    routes(router) {
      router.service(ActionsService, {
        enqueue() {
          enqueued++;
          return {};
        },
        abort() {
          return {};
        },
      });
    },
  });
  const server = await startHttpServer({ host: "127.0.0.1", port: listenPort, handler, logger: pino({ level: "silent" }) });
  return {
    url: `http://127.0.0.1:${server.port}`,
    enqueued: () => enqueued,
    close: () => server.close({ graceMs: 0 }),
  };
}

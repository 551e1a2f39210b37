/** A real Connect server for flyteidl2.actions.ActionsService on a random port, recording and scripting Enqueue/Abort. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  AbortResponseSchema,
  ActionsService,
  EnqueueResponseSchema,
  type AbortRequest,
  type EnqueueRequest,
} from "#gen/flyteidl2/actions/actions_service_pb.js";

export interface FakeActionsService {
  url: string;
  enqueued: EnqueueRequest[];
  aborted: AbortRequest[];
  /** Decides each Abort: return an error to refuse it (call number starts at 1). */
  abortScript: (call: number, req: AbortRequest) => ConnectError | undefined;
  enqueueScript: (call: number, req: EnqueueRequest) => ConnectError | undefined;
  /** Resolves once `n` Abort calls have arrived. */
  waitForAborts(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeActionsService(): Promise<FakeActionsService> {
  const waiters: { n: number; resolve: () => void }[] = [];
  const fake: FakeActionsService = {
    url: "",
    enqueued: [],
    aborted: [],
    abortScript: () => undefined,
    enqueueScript: () => undefined,
    waitForAborts(n, timeoutMs = 5000) {
      if (fake.aborted.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`waited for ${n} Abort calls, got ${fake.aborted.length}`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(ActionsService, {
        async enqueue(req) {
          fake.enqueued.push(req);
          const error = fake.enqueueScript(fake.enqueued.length, req);
          if (error) throw error;
          return create(EnqueueResponseSchema);
        },
        async abort(req) {
          fake.aborted.push(req);
          for (const w of waiters.filter((x) => fake.aborted.length >= x.n)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
          const error = fake.abortScript(fake.aborted.length, req);
          if (error) throw error;
          return create(AbortResponseSchema);
        },
      }),
  });
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

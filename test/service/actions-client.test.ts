// The executor client picks HTTP/2 for an h2c executor and HTTP/1.1 for any other, and works with both.
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createH2Server, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { AddressInfo, Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AbortResponseSchema, ActionsService, EnqueueResponseSchema } from "#gen/flyteidl2/actions/actions_service_pb.js";
import { createActionsClient, probeH2c } from "../../src/service/actions-client.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An ActionsService that records the HTTP version of every call. */
async function executor(kind: "http1" | "h2c"): Promise<{ url: string; versions: string[] }> {
  const versions: string[] = [];
  const adapter = connectNodeAdapter({
    routes: (router) =>
      router.service(ActionsService, {
        enqueue: () => create(EnqueueResponseSchema),
        abort: () => create(AbortResponseSchema),
      }),
  });
  const handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    versions.push(req.httpVersion);
    adapter(req as never, res as never);
  };
  const server: Server = kind === "http1" ? createServer(handler) : createH2Server(handler);
  // Closing ends the clients' HTTP/2 sessions too, as a redeployed executor would.
  const sessions = new Set<{ destroy(): void }>();
  server.on("session", (session: { destroy(): void; on(e: string, f: () => void): void }) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    for (const session of sessions) session.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, versions };
}

const enqueueRequest = { action: { actionId: { run: { project: "p", domain: "d", name: "r" }, name: "a0" } } };

describe("actions client", () => {
  it("speaks HTTP/2 to an h2c executor", async () => {
    const ex = await executor("h2c");
    expect(await probeH2c(ex.url, 2000)).toBe(true);
    const client = createActionsClient({ baseUrl: ex.url });
    closers.push(async () => client.close?.());
    await client.enqueue(enqueueRequest);
    await client.abort({ actionId: enqueueRequest.action.actionId });
    expect(ex.versions).toEqual(["2.0", "2.0"]);
  });

  it("falls back to HTTP/1.1 for an executor that does not speak h2c", async () => {
    const ex = await executor("http1");
    expect(await probeH2c(ex.url, 2000)).toBe(false);
    const client = createActionsClient({ baseUrl: ex.url });
    await client.enqueue(enqueueRequest);
    await client.enqueue(enqueueRequest);
    expect(ex.versions).toEqual(["1.1", "1.1"]);
  });

  it("asks again after the executor was unreachable", async () => {
    const ex = await executor("h2c");
    const port = Number(new URL(ex.url).port);
    await closers.pop()!(); // the executor goes away
    expect(await probeH2c(ex.url, 2000)).toBeUndefined();
    const client = createActionsClient({ baseUrl: ex.url, timeoutMs: 2000 });
    closers.push(async () => client.close?.());
    await expect(client.enqueue(enqueueRequest)).rejects.toThrow();
    // Back on the same port, now answering h2c: the client finds out.
    const versions: string[] = [];
    const adapter = connectNodeAdapter({ routes: (r) => r.service(ActionsService, { enqueue: () => create(EnqueueResponseSchema), abort: () => create(AbortResponseSchema) }) });
    const server = createH2Server((req, res) => (versions.push(req.httpVersion), adapter(req as never, res as never)));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    await client.enqueue(enqueueRequest);
    expect(versions).toEqual(["2.0"]);
    client.close?.();
  });

  it("checks the protocol again after a transport failure (executor replaced by an HTTP/1.1 one)", async () => {
    const first = await executor("h2c");
    const port = Number(new URL(first.url).port);
    const client = createActionsClient({ baseUrl: first.url, timeoutMs: 2000 });
    await client.enqueue(enqueueRequest);
    expect(first.versions).toEqual(["2.0"]);
    await closers.pop()!(); // the executor goes away, ending the client's HTTP/2 session
    const versions: string[] = [];
    const adapter = connectNodeAdapter({ routes: (r) => r.service(ActionsService, { enqueue: () => create(EnqueueResponseSchema), abort: () => create(AbortResponseSchema) }) });
    const server = createServer((req, res) => (versions.push(req.httpVersion), adapter(req, res)));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const after = createActionsClient({ baseUrl: first.url, timeoutMs: 2000 });
    // A client that had decided on HTTP/2: its next call fails, the one after goes over HTTP/1.1.
    await expect(client.enqueue(enqueueRequest)).rejects.toThrow();
    await client.enqueue(enqueueRequest);
    expect(versions).toEqual(["1.1"]);
    await after.enqueue(enqueueRequest);
    expect(versions).toEqual(["1.1", "1.1"]);
    client.close?.();
  });

  it("uses HTTP/1.1 when told to, even with an h2c executor", async () => {
    const ex = await executor("h2c");
    // An h2c-only server cannot answer HTTP/1.1, so the call fails: proof no HTTP/2 was tried.
    const client = createActionsClient({ baseUrl: ex.url, httpVersion: "1.1", timeoutMs: 2000 });
    await expect(client.enqueue(enqueueRequest)).rejects.toThrow();
    expect(ex.versions).toEqual([]);
  });
});

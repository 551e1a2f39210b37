import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProjectService } from "#gen/flyteidl2/project/project_service_pb.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { PG_HOST, PG_PORT, postgresAvailable } from "../support/databases.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

const pgUp = await postgresAvailable();

describe.skipIf(!pgUp)("PostgreSQL going away and coming back", () => {
  let t: TestApp;
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(PG_HOST, PG_PORT);
    t = await startTestApp("postgres", (c) => {
      c.database.postgres.port = proxy.port;
      c.database.postgres.options = "sslmode=disable connect_timeout=2";
    });
  });
  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await proxy?.close();
  });

  it("turns /readyz to 503 and calls to Unavailable, then recovers without a restart", async () => {
    const client = createClient(ProjectService, t.transports["connect-h2"]);
    expect((await client.getProject({ id: "flytesnacks" })).project!.id).toBe("flytesnacks");

    proxy.cut();
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(/^database ping failed: /);
    const error = await client.getProject({ id: "flytesnacks" }).catch((e) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.Unavailable);
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);

    proxy.restore();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      recovered = (await fetch(`${t.baseUrl}/readyz`)).status === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 100));
    }
    expect(recovered).toBe(true);
    expect((await client.getProject({ id: "flytesnacks" })).project!.id).toBe("flytesnacks");
  });
  it("a connection lost inside a transaction fails that transaction, not the process", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const outcome = t.app.db.db
        .transaction()
        .execute(async (trx) => {
          await trx.selectFrom("projects").select("identifier").execute();
          proxy.cut(); // between two statements: the client is checked out with no query running
          await new Promise((r) => setTimeout(r, 200));
          await trx.selectFrom("projects").select("identifier").execute();
        })
        .then(
          () => "committed",
          () => "failed",
        );
      expect(await outcome).toBe("failed");
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      proxy.restore();
    }
  });
});

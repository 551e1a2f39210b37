// The built service as `npm start` runs it (dist/main.js and its chunks): it finds its migrations, writes
// inputs where the reference puts them, loads the S3 chunk only for s3:// and stops cleanly on SIGTERM.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/ports.js";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");

/** Starts dist/main.js on a fresh SQLite file with `storagePrefix`; resolves once /readyz answers 200. */
async function startBundle(storage: string, via: "node" | "npm" = "node") {
  const dir = mkdtempSync(join(tmpdir(), "runs-bundle-"));
  const port = await freePort();
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      "runs:",
      `  server: { host: 127.0.0.1, port: ${port} }`,
      `  actionsServiceUrl: "http://127.0.0.1:1"`,
      `  storagePrefix: "${storage.replaceAll("$DIR", dir)}"`,
      "  triggerScheduler: { enabled: false }",
      "database:",
      `  sqlite: { file: "${dir}/runs.db" }`,
      "storage:",
      "  type: stow",
      "  stow:",
      "    kind: s3",
      "    config: { region: us-east-1, endpoint: http://127.0.0.1:1, auth_type: accesskey, access_key_id: a, secret_key: b }",
      "logger: { level: 4 }",
    ].join("\n"),
  );
  // Through npm as an operator or a process manager starts it (prestart skipped: beforeAll built dist/).
  // npm's own script shell must hand SIGTERM on to the service (.npmrc: script-shell=bash).
  const child =
    via === "node"
      ? spawn(process.execPath, [join(ROOT, "dist/main.js"), "--config", config], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
      : spawn("npm", ["start", "--ignore-scripts", "--", "--config", config], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (i > 200) throw new Error(`not ready; log:\n${log}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const createRun = (name: string) =>
    fetch(`${base}/flyteidl2.workflow.RunService/CreateRun`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        runId: { project: "flytesnacks", domain: "development", name },
        taskSpec: { taskTemplate: { id: { project: "flytesnacks", domain: "development", name: "t", version: "v1" }, type: "python" } },
      }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  return {
    dir,
    base,
    createRun,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("the built bundle", () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs"), "--if-stale"], { cwd: ROOT, stdio: "ignore" });
  }, 120_000);

  it("migrates, creates a run with its inputs on disk and exits 0 on SIGTERM, never loading the S3 code", async () => {
    const app = await startBundle("file://$DIR/data");
    const { status, body } = await app.createRun("rbundle1");
    expect(status).toBe(200);
    expect(body).toHaveProperty("run");
    expect(existsSync(join(app.dir, "data/flytesnacks/development/rbundle1/inputs/inputs.pb"))).toBe(true);
    expect(app.log()).not.toContain("S3 client ready");
    expect(await app.stop()).toBe(0);
  }, 60_000);

  it("loads the S3 store on the first s3:// write", async () => {
    const app = await startBundle("s3://bucket/data");
    const { status, body } = await app.createRun("rbundle2");
    // Nothing listens on the endpoint: the S3 client was loaded and tried, and the failure is reported.
    expect(status).toBe(500);
    expect(body.message).toMatch(/failed to write inputs: .*s3:\/\/bucket\/data\/flytesnacks\/development\/rbundle2\/inputs\/inputs\.pb/);
    expect(app.log()).toContain("S3 client ready");
    expect(await app.stop()).toBe(0);
  }, 60_000);

  it("stops on a SIGTERM sent to `npm start` (the service is not left running under init)", async () => {
    const app = await startBundle("file://$DIR/data", "npm");
    expect((await app.createRun("rbundle3")).status).toBe(200);
    // Started with the runtime settings of scripts/service-runtime.env (a 1,024 MiB old space plus the young generation).
    const heapLimit = Number(/"heapLimitMiB":(\d+)/.exec(app.log())?.[1]);
    expect(heapLimit).toBeGreaterThanOrEqual(1024);
    expect(heapLimit).toBeLessThan(1100);
    expect(await app.stop()).toBe(0);
    expect(app.log()).toContain('"msg":"stopped"');
    // Nothing answers on the port any more.
    expect(await fetch(`${app.base}/healthz`).then(() => "up", () => "down")).toBe("down");
  }, 60_000);
});

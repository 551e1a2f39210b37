import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { freePort } from "../support/ports.js";
import { describe, expect, it } from "vitest";
import { Health } from "#gen/grpc/health/v1/health_pb.js";

const ROOT = join(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");

function run(args: string[]): { child: ChildProcess; exit: Promise<{ code: number | null; stderr: string; stdout: string }> } {
  const child = spawn(TSX, [join(ROOT, "src/main.ts"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (d) => (stderr += d));
  child.stdout!.on("data", (d) => (stdout += d));
  const exit = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stderr, stdout })),
  );
  return { child, exit };
}

function tempConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "runs-proc-"));
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml.replaceAll("$DIR", dir));
  return file;
}

describe("the service process", () => {
  it("refuses a wrong config with one line naming the key and exit code 2", async () => {
    const file = tempConfig("runs:\n  server:\n    port: abc\ndatabase:\n  sqlite:\n    file: $DIR/x.db\n");
    const { exit } = run(["--config", file]);
    const { code, stderr } = await exit;
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("runs.server.port");
  });

  it("refuses a config with no database", async () => {
    const file = tempConfig("runs:\n  server:\n    port: 1234\n");
    const { code, stderr } = await run(["--config", file]).exit;
    expect(code).toBe(2);
    expect(stderr).toMatch(/database/);
  });

  it("serves, then on SIGTERM ends open streams and exits 0", async () => {
    const port = await freePort();
    const file = tempConfig(`runs:\n  server:\n    host: 127.0.0.1\n    port: ${port}\ndatabase:\n  sqlite:\n    file: $DIR/runs.db\nlogger:\n  level: 4\n`);
    const { child, exit } = run(["--config", file]);
    const base = `http://127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    expect(up).toBe(true);

    const health = createClient(Health, createGrpcTransport({ baseUrl: base }));
    const stream = health.watch({ service: "" });
    const first = await stream[Symbol.asyncIterator]().next();
    expect(first.done).toBe(false);
    const streamEnd = (async () => {
      try {
        for await (const _ of stream) void _;
        return "ended";
      } catch {
        return "errored";
      }
    })();

    const started = Date.now();
    child.kill("SIGTERM");
    const { code, stdout } = await exit;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await streamEnd).toMatch(/ended|errored/);
    expect(stdout).toContain("stopped");
  });
});

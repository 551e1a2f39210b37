/**
 * The runtime settings the service starts with (scripts/service-runtime.env,
 * applied by scripts/start.sh): the bench starts the port with the same V8
 * flags and malloc arena count, so it measures the service as operators run it.
 * BENCH_PORT_RUNTIME=none starts the port with Node's defaults instead.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ServiceRuntime {
  nodeFlags: string[];
  env: Record<string, string>;
}

function value(text: string, key: string): string {
  const match = new RegExp(`^${key}="([^"]*)"`, "m").exec(text);
  if (!match) throw new Error(`scripts/service-runtime.env has no ${key}="…" line`);
  return match[1]!;
}

export function serviceRuntime(root: string, mode: string | undefined): ServiceRuntime {
  if (mode === "none") return { nodeFlags: [], env: {} };
  const text = readFileSync(join(root, "scripts/service-runtime.env"), "utf8");
  return {
    nodeFlags: value(text, "RUNS_DEFAULT_NODE_FLAGS").split(/\s+/).filter(Boolean),
    env: { MALLOC_ARENA_MAX: value(text, "RUNS_DEFAULT_MALLOC_ARENA_MAX") },
  };
}

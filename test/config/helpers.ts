import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { ConfigError, loadConfig, type Config } from "../../src/config/index.js";

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "runs-config-test-"));
  dirs.push(dir);
  return dir;
}

/** Writes `text` to `name` inside a fresh temp dir and returns the file path. */
export function writeTemp(name: string, text: string, dir = tempDir()): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Loads a YAML text written to a temp file, isolated from the real env and search dirs. */
export function loadYaml(
  yaml: string,
  argv: string[] = [],
  env: Record<string, string | undefined> = {},
): Config {
  const file = writeTemp("config.yaml", yaml);
  return loadConfig({ argv: ["--config", file, ...argv], env, searchDirs: [] });
}

/** Runs `fn` and returns the ConfigError it throws (failing when it throws anything else or nothing). */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

export const SQLITE_YAML = `
database:
  sqlite:
    file: ./test.db
`;

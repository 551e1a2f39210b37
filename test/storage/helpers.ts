import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { defaultConfig, type Config } from "../../src/config/index.js";

// The AWS SDK prints a one-time notice about future Node versions; keep test output clean.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export const quietLogger = pino({ level: "silent" });

/** The default storage config with `changes` applied on top. */
export function storageConfig(changes: Partial<Config["storage"]> = {}): Config["storage"] {
  return { ...defaultConfig().storage, ...changes };
}

/** A fresh temp folder and its cleanup. */
export function tempDir(prefix = "runs-storage-"): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

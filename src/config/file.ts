/**
 * Finding and reading the configuration file.
 */
import { readFileSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { ConfigError } from "./types.js";

/** Directories searched for `config.yaml` when no `--config` is given (after the working directory). */
export const SYSTEM_CONFIG_DIR = "/etc/flyte/config";

/** The file name looked for in each search directory. */
export const CONFIG_FILE_NAME = "config.yaml";

const SUPPORTED_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Picks the file to load: the explicit path when given (it must exist),
 * otherwise the first `config.yaml` found in `searchDirs`. Returns an
 * absolute path, or undefined when nothing was found.
 */
export function findConfigFile(
  explicitPath: string | undefined,
  cwd: string,
  searchDirs: readonly string[],
): string | undefined {
  if (explicitPath !== undefined) {
    const path = resolve(cwd, explicitPath);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new ConfigError(`config: config file ${JSON.stringify(explicitPath)} not found (resolved to ${path})`);
    }
    if (!stat.isFile()) throw new ConfigError(`config: config file ${JSON.stringify(path)} is not a regular file`);
    return path;
  }
  for (const dir of searchDirs) {
    const candidate = resolve(cwd, dir, CONFIG_FILE_NAME);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Reads and parses a YAML (or JSON) file. Returns the top-level mapping;
 * an empty file yields an empty mapping.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  const ext = extname(path).toLowerCase();
  if (!SUPPORTED_EXTENSIONS.has(ext)) {
    throw new ConfigError(
      `config: ${path}: unsupported config file type ${JSON.stringify(ext || "(none)")}; use .yaml, .yml or .json`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`config: ${path}: cannot read file: ${(err as Error).message}`, { cause: err });
  }

  const doc = parseDocument(text, { merge: true, prettyErrors: true });
  const problem = doc.errors[0];
  if (problem) {
    const where = problem.linePos ? ` at line ${problem.linePos[0].line}, column ${problem.linePos[0].col}` : "";
    // The parser's own message ends with a source excerpt; keep its first line only.
    const reason = problem.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new ConfigError(`config: ${path}: invalid YAML${where}: ${reason}`, { cause: problem });
  }

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    throw new ConfigError(`config: ${path}: invalid YAML: ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError(`config: ${path}: expected a mapping of sections at the top level`);
  }
  return data as Record<string, unknown>;
}

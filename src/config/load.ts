/**
 * loadConfig: defaults, then the config file, then environment variables,
 * then command-line flags, each layer overriding the one before; then
 * validation of the result.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgv, type ParsedArgs } from "./argv.js";
import { coerce, describeValue } from "./coerce.js";
import { findConfigFile, readConfigFile, SYSTEM_CONFIG_DIR } from "./file.js";
import {
  envNamesFor,
  FIELDS,
  KEY_TREE,
  SELECTING_SECTIONS,
  type DatabaseKind,
  type FieldSpec,
  type KeyNode,
} from "./schema.js";
import { ConfigError, defaultConfig, type Config, type PostgresConfig } from "./types.js";

export interface LoadConfigOptions {
  /** Command-line arguments without the program name, i.e. `process.argv.slice(2)`. */
  argv: string[];
  /** Environment variables; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Base for relative paths (`--config`, `passwordPath`, search dirs); defaults to `process.cwd()`. */
  cwd?: string;
  /**
   * Directories searched, in order, for `config.yaml` when `--config` is not
   * given. Defaults to the working directory, then /etc/flyte/config.
   */
  searchDirs?: string[];
}

/** One value from one source, not yet converted. */
interface Entry {
  spec: FieldSpec;
  raw: unknown;
  /** Appended to the key in error messages, e.g. " (flag --runs.server.port)". */
  source: string;
}

interface Layer {
  entries: Map<string, Entry>;
  /** Backends this layer chose by setting a database.sqlite / database.postgres key. */
  selects: Set<DatabaseKind>;
}

/** Loads, merges and validates the configuration. Throws ConfigError on any problem. */
export function loadConfig(opts: LoadConfigOptions): Config {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const args = parseArgv(opts.argv);

  const configFile = findConfigFile(args.configPath, cwd, opts.searchDirs ?? [".", SYSTEM_CONFIG_DIR]);
  const layers: Layer[] = [];
  if (configFile !== undefined) layers.push(fileLayer(readConfigFile(configFile)));
  layers.push(envLayer(env));
  layers.push(flagLayer(args.flags));

  const cfg = defaultConfig();
  if (configFile !== undefined) cfg.configFile = configFile;
  for (const layer of layers) applyLayer(cfg, layer);

  cfg.database.kind = chooseDatabase(layers);
  validate(cfg);
  if (cfg.database.kind === "postgres") readPasswordFile(cfg.database.postgres, cwd);
  return cfg;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Layers ---------------------------------------------------------------------

function fileLayer(data: Record<string, unknown>): Layer {
  const layer: Layer = { entries: new Map(), selects: new Set() };
  walkFile(data, KEY_TREE, layer);
  return layer;
}

/** Matches file keys against the key tree case-insensitively; unknown keys are skipped. */
function walkFile(data: Record<string, unknown>, node: KeyNode, layer: Layer): void {
  for (const [key, value] of Object.entries(data)) {
    const child = node.children.get(key.toLowerCase());
    if (!child) continue;
    const section = SELECTING_SECTIONS.get(child.path);
    if (section) layer.selects.add(section);
    // A null value (`port:` with nothing after it) leaves the default alone.
    if (value === null || value === undefined) continue;
    if (child.spec) {
      if (child.spec.selects) layer.selects.add(child.spec.selects);
      layer.entries.set(child.spec.key, { spec: child.spec, raw: value, source: "" });
    } else if (isMapping(value)) {
      walkFile(value, child, layer);
    } else {
      throw new ConfigError(`config: ${child.path}: expected a mapping, got ${describeValue(value)}`);
    }
  }
}

function envLayer(env: Record<string, string | undefined>): Layer {
  const layer: Layer = { entries: new Map(), selects: new Set() };
  for (const spec of FIELDS) {
    for (const name of envNamesFor(spec.key)) {
      const value = env[name];
      // Empty variables count as unset.
      if (value === undefined || value === "") continue;
      layer.entries.set(spec.key, { spec, raw: value, source: ` (env ${name})` });
      if (spec.selects) layer.selects.add(spec.selects);
      break;
    }
  }
  return layer;
}

function flagLayer(flags: ParsedArgs["flags"]): Layer {
  const layer: Layer = { entries: new Map(), selects: new Set() };
  for (const { spec, name, raw } of flags.values()) {
    layer.entries.set(spec.key, { spec, raw, source: ` (flag --${name})` });
    if (spec.selects) layer.selects.add(spec.selects);
  }
  return layer;
}

// Merging --------------------------------------------------------------------

/**
 * Converts and stores one layer's values. Within a layer the deprecated
 * top-level database aliases win over `database.postgres.*`; a later layer
 * (env, flags) wins over both.
 */
function applyLayer(cfg: Config, layer: Layer): void {
  const entries = [...layer.entries.values()];
  const ordered = [...entries.filter((e) => !e.spec.aliasOf), ...entries.filter((e) => e.spec.aliasOf)];
  for (const entry of ordered) {
    const { spec } = entry;
    let value;
    try {
      value = coerce(spec.kind, entry.raw);
    } catch (err) {
      throw new ConfigError(`config: ${spec.key}${entry.source}: ${(err as Error).message}`);
    }
    const problem = spec.check?.(value);
    if (problem) throw new ConfigError(`config: ${spec.key}${entry.source}: ${problem}`);
    if (spec.aliasOf) {
      // Zero values do not override, as in the reference.
      if (value !== "" && value !== 0 && value !== false) {
        (cfg.database.postgres as unknown as Record<string, unknown>)[spec.aliasOf] = value;
      }
    } else {
      spec.set?.(cfg, value);
    }
  }
}

function chooseDatabase(layers: readonly Layer[]): DatabaseKind {
  const chosen = new Set<DatabaseKind>();
  for (const layer of layers) for (const kind of layer.selects) chosen.add(kind);
  if (chosen.size > 1) {
    throw new ConfigError("config: database: both sqlite and postgres are configured; choose one");
  }
  const [kind] = chosen;
  if (kind === undefined) {
    throw new ConfigError("config: database: no database configured; set database.sqlite.file or database.postgres.*");
  }
  return kind;
}

// Validation -----------------------------------------------------------------

/** Checks that involve more than one key (single-key ranges are checked while merging). */
function validate(cfg: Config): void {
  const { initialDelay, maxDelay } = cfg.runs.abortReconciler;
  if (maxDelay < initialDelay) {
    throw new ConfigError(
      `config: runs.abortReconciler.maxDelay: must not be shorter than runs.abortReconciler.initialDelay (${maxDelay}ms < ${initialDelay}ms)`,
    );
  }
}

/** Replaces the password with the trimmed content of `passwordPath`, when set. */
function readPasswordFile(pg: PostgresConfig, cwd: string): void {
  if (pg.passwordPath === "") return;
  const path = resolve(cwd, pg.passwordPath);
  try {
    pg.password = readFileSync(path, "utf8").trim();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`config: database.postgres.passwordPath: cannot read ${JSON.stringify(path)} (${reason})`, {
      cause: err,
    });
  }
}

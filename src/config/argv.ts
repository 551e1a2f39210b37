/**
 * Command-line parsing in the style of the reference's pflag/cobra root
 * command: `--name value`, `--name=value`, bare `--name` for booleans,
 * comma lists for list flags (repeating the flag appends), `k=v,k2=v2` for
 * map flags (repeating merges). Unknown flags and stray arguments are errors.
 */
import { toStringList, parseKeyValueList } from "./coerce.js";
import { FIELDS_BY_LOWER_KEY, type FieldSpec } from "./schema.js";
import { ConfigError } from "./types.js";

export interface FlagValue {
  spec: FieldSpec;
  /** The flag as typed, without the leading dashes. */
  name: string;
  /** A string, or the accumulated list / map for list and map flags. */
  raw: unknown;
}

export interface ParsedArgs {
  /** Value of `--config`, when given and non-empty. */
  configPath?: string;
  /** Flag values by canonical key, in first-seen order. */
  flags: Map<string, FlagValue>;
}

export function parseArgv(argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, FlagValue>();
  let configPath: string | undefined;
  let previousBoolFlag: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      if (i + 1 < argv.length) throw unexpectedArgument(argv[i + 1], undefined);
      break;
    }
    if (!arg.startsWith("-") || arg === "-") throw unexpectedArgument(arg, previousBoolFlag);
    if (!arg.startsWith("--")) {
      throw new ConfigError(`config: unknown flag ${JSON.stringify(arg)} (flags are written --name or --name=value)`);
    }
    previousBoolFlag = undefined;

    const body = arg.slice(2);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (name === "") throw new ConfigError(`config: bad flag syntax ${JSON.stringify(arg)}`);

    const takeValue = (): string => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new ConfigError(`config: flag --${name} needs a value`);
      return argv[++i];
    };

    if (name === "config") {
      const path = takeValue();
      configPath = path === "" ? undefined : path;
      continue;
    }

    const spec = FIELDS_BY_LOWER_KEY.get(name.toLowerCase());
    if (!spec || !spec.flag) throw unknownFlag(name);

    if (spec.kind === "bool" && value === undefined) {
      value = "true";
      previousBoolFlag = name;
    }
    const text = takeValue();
    const prior = flags.get(spec.key);
    let raw: unknown = text;
    try {
      if (spec.kind === "stringList") {
        const items = toStringList(text);
        raw = prior ? [...(prior.raw as string[]), ...items] : items;
      } else if (spec.kind === "stringMap") {
        const entries = parseKeyValueList(text);
        raw = prior ? { ...(prior.raw as Record<string, string>), ...entries } : entries;
      }
    } catch (err) {
      throw new ConfigError(`config: ${spec.key} (flag --${name}): ${(err as Error).message}`);
    }
    flags.set(spec.key, { spec, name, raw });
  }

  return { configPath, flags };
}

function unknownFlag(name: string): ConfigError {
  const lower = name.toLowerCase();
  if (lower.startsWith("runs.database.")) {
    // The reference has a second, runs-scoped database section used only for
    // its LISTEN connection; this port uses the one `database` section.
    const suggestion = `--${name.slice("runs.".length)}`;
    return new ConfigError(`config: unknown flag --${name}: runs.database is not used by this port; use ${suggestion}`);
  }
  return new ConfigError(`config: unknown flag --${name}`);
}

function unexpectedArgument(arg: string, previousBoolFlag: string | undefined): ConfigError {
  const hint =
    previousBoolFlag !== undefined
      ? `; boolean flags take their value after "=", e.g. --${previousBoolFlag}=${arg}`
      : "";
  return new ConfigError(`config: unexpected argument ${JSON.stringify(arg)}${hint}`);
}

/** Help text listing `--config` and every config flag, one per line. */
export function configUsage(): string {
  const lines = ["  --config string   config file (default: search ./config.yaml, /etc/flyte/config/config.yaml)"];
  for (const spec of FIELDS_BY_LOWER_KEY.values()) {
    if (!spec.flag) continue;
    lines.push(`  --${spec.key} ${FLAG_TYPE_NAMES[spec.kind]}`);
  }
  return lines.join("\n");
}

const FLAG_TYPE_NAMES: Record<FieldSpec["kind"], string> = {
  string: "string",
  int: "int",
  float: "float",
  bool: "(true|false)",
  duration: "duration",
  stringList: "strings (comma-separated)",
  stringMap: "key=value,...",
  domains: "list",
};

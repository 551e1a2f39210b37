/**
 * Every configuration key the loader knows: its reference spelling, its type,
 * where it lands in the Config, whether a command-line flag exists for it and
 * what range it must fall in. File keys, env vars and flags are all derived
 * from this one table.
 */
import type { FieldKind, KindValue } from "./coerce.js";
import type { Config, PostgresConfig } from "./types.js";

export type DatabaseKind = Config["database"]["kind"];

export interface FieldSpec<K extends FieldKind = FieldKind> {
  /** Dotted key in the reference's spelling, e.g. "logger.show-source". */
  key: string;
  kind: K;
  /** Stores a converted value; absent for keys that are accepted but unused. */
  set?: (cfg: Config, value: KindValue[K]) => void;
  /** Whether `--<key>` exists on the command line. */
  flag: boolean;
  /** Returns a problem description when the value is out of range. */
  check?: (value: KindValue[K]) => string | undefined;
  /** Setting this key chooses a database backend. */
  selects?: DatabaseKind;
  /**
   * Deprecated alias of a `database.postgres.*` field: when it holds a
   * non-empty / non-zero / true value it overrides that field.
   */
  aliasOf?: keyof PostgresConfig;
}

// Range checks -------------------------------------------------------------

const atLeast =
  (min: number) =>
  (v: number): string | undefined =>
    v < min ? `must be at least ${min}, got ${v}` : undefined;

const nonNegative = (v: number): string | undefined => (v < 0 ? `must not be negative, got ${v}` : undefined);

const positiveDuration = (v: number): string | undefined =>
  v <= 0 ? `must be a positive duration, got ${v}ms` : undefined;

const nonNegativeDuration = (v: number): string | undefined =>
  v < 0 ? `must not be a negative duration, got ${v}ms` : undefined;

const portIn =
  (min: number) =>
  (v: number): string | undefined =>
    v < min || v > 65535 ? `port must be between ${min} and 65535, got ${v}` : undefined;

const oneOf =
  (allowed: readonly string[]) =>
  (v: string): string | undefined =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`;

export const OTEL_TYPES = ["noop", "file", "jaeger", "otlpgrpc", "otlphttp"] as const;

/** Empty, or an absolute http(s) URL. */
const optionalHttpUrl = (v: string): string | undefined => {
  if (v === "") return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return `must be an absolute URL such as "https://idp.example.com/oauth2/default", got ${JSON.stringify(v)}`;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? undefined : `must be an http(s) URL, got ${JSON.stringify(v)}`;
};

/** A path resolved against another URL, which it may not replace. */
const relativePath = (v: string): string | undefined =>
  v.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(v)
    ? `must be a path relative to runs.authMetadata.externalAuthServerBaseUrl (no scheme, host or leading '/'), got ${JSON.stringify(v)}`
    : undefined;

/** An HTTP header name (RFC 9110 token), or "" for "not used". */
const headerName = (v: string): string | undefined =>
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]*$/.test(v.trim()) ? undefined : `must be an HTTP header name, got "${v}"`;

// The table ------------------------------------------------------------------

function field<K extends FieldKind>(
  key: string,
  kind: K,
  set: FieldSpec<K>["set"],
  extra: Partial<Omit<FieldSpec<K>, "key" | "kind" | "set">> = {},
): FieldSpec {
  return { key, kind, set, flag: true, ...extra } as unknown as FieldSpec;
}

/** A `database.postgres.*` field, which also chooses PostgreSQL. */
function pg<K extends FieldKind>(
  name: keyof PostgresConfig,
  kind: K,
  extra: Partial<Omit<FieldSpec<K>, "key" | "kind" | "set">> = {},
): FieldSpec {
  return field(
    `database.postgres.${name}`,
    kind,
    (c, v) => {
      (c.database.postgres as unknown as Record<string, unknown>)[name] = v;
    },
    { selects: "postgres", ...extra },
  );
}

/** A deprecated top-level `database.*` alias of a postgres field (no flag, as in the reference). */
function alias<K extends FieldKind>(
  key: string,
  kind: K,
  aliasOf: keyof PostgresConfig,
  extra: Partial<Omit<FieldSpec<K>, "key" | "kind" | "set">> = {},
): FieldSpec {
  return field(`database.${key}`, kind, undefined, { flag: false, selects: "postgres", aliasOf, ...extra });
}

export const FIELDS: readonly FieldSpec[] = [
  // runs.* (runs/config/config.go)
  field("runs.server.host", "string", (c, v) => (c.runs.server.host = v)),
  field("runs.server.port", "int", (c, v) => (c.runs.server.port = v), { check: portIn(0) }),
  field("runs.server.maxRequestBytes", "int", (c, v) => (c.runs.server.maxRequestBytes = v), {
    check: atLeast(1),
  }),
  field("runs.server.cors.allowedOrigins", "stringList", (c, v) => (c.runs.server.cors.allowedOrigins = v)),
  field("runs.server.metrics.enabled", "bool", (c, v) => (c.runs.server.metrics.enabled = v)),
  field("runs.server.metrics.path", "string", (c, v) => (c.runs.server.metrics.path = v), {
    check: (v) => (v.startsWith("/") ? undefined : `must start with "/", got ${JSON.stringify(v)}`),
  }),
  field("runs.watchBufferSize", "int", (c, v) => (c.runs.watchBufferSize = v), { check: nonNegative }),
  field("runs.actionsServiceUrl", "string", (c, v) => (c.runs.actionsServiceUrl = v)),
  field("runs.storagePrefix", "string", (c, v) => (c.runs.storagePrefix = v)),
  field("runs.seedProjects", "stringList", (c, v) => (c.runs.seedProjects = v)),
  // The reference generates no flags for these two groups; file and env only.
  field("runs.domains", "domains", (c, v) => (c.runs.domains = v), { flag: false }),
  field("runs.triggerScheduler.enabled", "bool", (c, v) => (c.runs.triggerScheduler.enabled = v), {
    flag: false,
  }),
  field("runs.triggerScheduler.resyncInterval", "duration", (c, v) => (c.runs.triggerScheduler.resyncInterval = v), {
    flag: false,
    check: positiveDuration,
  }),
  field(
    "runs.triggerScheduler.maxCatchupRunsPerLoop",
    "int",
    (c, v) => (c.runs.triggerScheduler.maxCatchupRunsPerLoop = v),
    { flag: false, check: nonNegative },
  ),
  field("runs.triggerScheduler.executionQps", "float", (c, v) => (c.runs.triggerScheduler.executionQps = v), {
    flag: false,
    check: nonNegative,
  }),
  field("runs.triggerScheduler.executionBurst", "int", (c, v) => (c.runs.triggerScheduler.executionBurst = v), {
    flag: false,
    check: nonNegative,
  }),
  // Our own section; the reference hard-codes these values.
  field("runs.abortReconciler.workers", "int", (c, v) => (c.runs.abortReconciler.workers = v), {
    check: atLeast(1),
  }),
  field("runs.abortReconciler.maxAttempts", "int", (c, v) => (c.runs.abortReconciler.maxAttempts = v), {
    check: atLeast(1),
  }),
  field("runs.abortReconciler.queueSize", "int", (c, v) => (c.runs.abortReconciler.queueSize = v), {
    check: atLeast(1),
  }),
  field("runs.abortReconciler.initialDelay", "duration", (c, v) => (c.runs.abortReconciler.initialDelay = v), {
    check: nonNegativeDuration,
  }),
  field("runs.abortReconciler.maxDelay", "duration", (c, v) => (c.runs.abortReconciler.maxDelay = v), {
    check: nonNegativeDuration,
  }),
  // runs.authMetadata.* (v2.0.43): GetOAuth2Metadata, the well-known endpoint, GetPublicClientConfig.
  field("runs.authMetadata.externalAuthServerBaseUrl", "string", (c, v) => (c.runs.authMetadata.externalAuthServerBaseUrl = v.trim()), {
    check: optionalHttpUrl,
  }),
  field("runs.authMetadata.externalMetadataUrl", "string", (c, v) => (c.runs.authMetadata.externalMetadataUrl = v), {
    check: relativePath,
  }),
  field("runs.authMetadata.retryAttempts", "int", (c, v) => (c.runs.authMetadata.retryAttempts = v), { check: nonNegative }),
  field("runs.authMetadata.retryDelay", "duration", (c, v) => (c.runs.authMetadata.retryDelay = v), {
    check: nonNegativeDuration,
  }),
  field("runs.authMetadata.authorizationMetadataKey", "string", (c, v) => (c.runs.authMetadata.authorizationMetadataKey = v)),
  field("runs.authMetadata.flyteClient.clientId", "string", (c, v) => (c.runs.authMetadata.flyteClient.clientId = v)),
  field("runs.authMetadata.flyteClient.redirectUri", "string", (c, v) => (c.runs.authMetadata.flyteClient.redirectUri = v)),
  field("runs.authMetadata.flyteClient.scopes", "stringList", (c, v) => (c.runs.authMetadata.flyteClient.scopes = v)),
  field("runs.authMetadata.flyteClient.audience", "string", (c, v) => (c.runs.authMetadata.flyteClient.audience = v)),

  // Caller identity (runs/config/config.go at v2.0.43).
  field("runs.trustForwardedIdentityHeaders", "bool", (c, v) => (c.runs.trustForwardedIdentityHeaders = v)),
  field("runs.identityHeaders.claimsJwtHeader", "string", (c, v) => (c.runs.identityHeaders.claimsJwtHeader = v.trim()), {
    check: headerName,
  }),
  field("runs.identityHeaders.subjectHeader", "string", (c, v) => (c.runs.identityHeaders.subjectHeader = v.trim()), {
    check: headerName,
  }),
  field("runs.identityHeaders.emailHeader", "string", (c, v) => (c.runs.identityHeaders.emailHeader = v.trim()), {
    check: headerName,
  }),

  // database.* (flytestdlib/database/config.go)
  field("database.enableForeignKeyConstraintWhenMigrating", "bool", undefined),
  field("database.maxIdleConnections", "int", (c, v) => (c.database.maxIdleConnections = v), {
    check: nonNegative,
  }),
  field("database.maxOpenConnections", "int", (c, v) => (c.database.maxOpenConnections = v), {
    check: nonNegative,
  }),
  field("database.connMaxLifeTime", "duration", (c, v) => (c.database.connMaxLifeTime = v), {
    check: nonNegativeDuration,
  }),
  field("database.sqlite.file", "string", (c, v) => (c.database.sqlite.file = v), {
    selects: "sqlite",
    check: (v) => (v === "" ? "must not be empty" : undefined),
  }),
  pg("host", "string"),
  pg("readReplicaHost", "string"),
  pg("port", "int", { check: portIn(1) }),
  pg("dbname", "string"),
  pg("username", "string"),
  pg("password", "string"),
  pg("passwordPath", "string"),
  pg("options", "string"),
  pg("debug", "bool"),
  alias("host", "string", "host"),
  alias("port", "int", "port", { check: portIn(0) }),
  alias("dbname", "string", "dbname"),
  alias("username", "string", "username"),
  alias("password", "string", "password"),
  alias("passwordPath", "string", "passwordPath"),
  alias("options", "string", "options"),
  alias("debug", "bool", "debug"),

  // logger.* (flytestdlib/logger/config.go)
  field("logger.show-source", "bool", (c, v) => (c.logger.showSource = v)),
  field("logger.mute", "bool", (c, v) => (c.logger.mute = v)),
  field("logger.level", "int", (c, v) => (c.logger.level = v)),
  field("logger.formatter.type", "string", (c, v) => (c.logger.formatter.type = v)),

  // otel.* (flytestdlib/otelutils/config.go)
  field("otel.type", "string", (c, v) => (c.otel.type = v), { check: oneOf(OTEL_TYPES) }),
  field("otel.file.filename", "string", (c, v) => (c.otel.file.filename = v)),
  field("otel.jaeger.endpoint", "string", (c, v) => (c.otel.jaeger.endpoint = v)),
  field("otel.otlpgrpc.endpoint", "string", (c, v) => (c.otel.otlpgrpc.endpoint = v)),
  field("otel.otlphttp.endpoint", "string", (c, v) => (c.otel.otlphttp.endpoint = v)),
  field("otel.sampler.parentSampler", "string", (c, v) => (c.otel.sampler.parentSampler = v), {
    check: oneOf(["always", "traceid"]),
  }),
  // The reference has no flag for the ratio (pflag "-").
  field("otel.sampler.traceIdRatio", "float", (c, v) => (c.otel.sampler.traceIdRatio = v), {
    flag: false,
    check: (v) => (v < 0 || v > 1 ? `must be between 0 and 1, got ${v}` : undefined),
  }),

  // storage.* (flytestdlib/storage/config.go)
  field("storage.type", "string", (c, v) => (c.storage.type = v)),
  field("storage.container", "string", (c, v) => (c.storage.container = v)),
  field("storage.enable-multicontainer", "bool", (c, v) => (c.storage.enableMulticontainer = v)),
  field("storage.connection.endpoint", "string", (c, v) => (c.storage.connection.endpoint = v)),
  field("storage.connection.auth-type", "string", (c, v) => (c.storage.connection.authType = v)),
  field("storage.connection.access-key", "string", (c, v) => (c.storage.connection.accessKey = v)),
  field("storage.connection.secret-key", "string", (c, v) => (c.storage.connection.secretKey = v)),
  field("storage.connection.region", "string", (c, v) => (c.storage.connection.region = v)),
  field("storage.connection.disable-ssl", "bool", (c, v) => (c.storage.connection.disableSsl = v)),
  field("storage.stow.kind", "string", (c, v) => (c.storage.stow.kind = v)),
  field("storage.stow.config", "stringMap", (c, v) => (c.storage.stow.config = v)),
  field("storage.limits.maxDownloadMBs", "int", (c, v) => (c.storage.limits.maxDownloadMBs = v), {
    check: nonNegative,
  }),
  // Accepted (and type-checked) for compatibility, not used by this port.
  field("storage.cache.max_size_mbs", "int", undefined),
  field("storage.cache.target_gc_percent", "int", undefined),
  field("storage.defaultHttpClient.timeout", "duration", undefined),
];

/** Sections whose mere presence in the file chooses a backend, even when empty. */
export const SELECTING_SECTIONS: ReadonlyMap<string, DatabaseKind> = new Map([
  ["database.sqlite", "sqlite"],
  ["database.postgres", "postgres"],
]);

/** Specs by lower-cased key, for flag lookup. */
export const FIELDS_BY_LOWER_KEY: ReadonlyMap<string, FieldSpec> = new Map(
  FIELDS.map((f) => [f.key.toLowerCase(), f]),
);

/** A node of the key tree used to walk a parsed file case-insensitively. */
export interface KeyNode {
  /** Canonical dotted path of this node ("" for the root). */
  path: string;
  spec?: FieldSpec;
  children: Map<string, KeyNode>;
}

function buildTree(): KeyNode {
  const root: KeyNode = { path: "", children: new Map() };
  for (const spec of FIELDS) {
    let node = root;
    for (const segment of spec.key.split(".")) {
      const lower = segment.toLowerCase();
      let child = node.children.get(lower);
      if (!child) {
        child = { path: node.path === "" ? segment : `${node.path}.${segment}`, children: new Map() };
        node.children.set(lower, child);
      }
      node = child;
    }
    node.spec = spec;
  }
  return root;
}

export const KEY_TREE: KeyNode = buildTree();

/**
 * Env var names for a key, in lookup order: the upper-cased dotted key, then
 * the same with "-" replaced by "_" (e.g. LOGGER.SHOW-SOURCE, LOGGER.SHOW_SOURCE).
 */
export function envNamesFor(key: string): string[] {
  const upper = key.toUpperCase();
  const underscored = upper.replaceAll("-", "_");
  return underscored === upper ? [upper] : [upper, underscored];
}

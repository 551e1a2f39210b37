/**
 * The service configuration as the rest of the code sees it. Field names are
 * camelCase; the YAML keys they come from are listed in ./schema.ts. Every
 * duration is a number of milliseconds.
 */

export interface DomainConfig {
  id: string;
  name: string;
}

export interface ServerConfig {
  /** Listen host. Default "0.0.0.0". */
  host: string;
  /** Listen port. Default 8090; 0 means "no HTTP server" (workers only). */
  port: number;
  /**
   * Largest accepted request message after decompression, in bytes.
   * Our own key (`runs.server.maxRequestBytes`); default 64 MiB.
   */
  maxRequestBytes: number;
  /**
   * Our own key (`runs.server.cors.allowedOrigins`). An empty list turns CORS
   * off; "*" allows any origin.
   */
  cors: { allowedOrigins: string[] };
  /**
   * Our own keys (`runs.server.metrics.enabled`, `runs.server.metrics.path`):
   * Prometheus text exposition on the main port. Default on, at "/metrics".
   */
  metrics: { enabled: boolean; path: string };
}

export interface TriggerSchedulerConfig {
  enabled: boolean;
  /** How often active triggers are re-read from the database (ms). */
  resyncInterval: number;
  maxCatchupRunsPerLoop: number;
  /** Token-bucket rate for scheduler CreateRun calls, per second. */
  executionQps: number;
  executionBurst: number;
}

/** Settings the reference hard-codes; configurable here under `runs.abortReconciler`. */
export interface AbortReconcilerConfig {
  workers: number;
  maxAttempts: number;
  queueSize: number;
  /** First retry delay (ms). */
  initialDelay: number;
  /** Upper bound of the retry delay (ms). */
  maxDelay: number;
}

/** The public (CLI/SDK) OAuth2 client advertised by GetPublicClientConfig. */
export interface FlyteClientConfig {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** Audience of the requested tokens, for IdPs that need one. */
  audience: string;
}

/**
 * `runs.authMetadata`: where OAuth2 clients are sent to log in. With
 * `externalAuthServerBaseUrl` set, GetOAuth2Metadata and
 * `/.well-known/oauth-authorization-server` serve that server's metadata.
 */
export interface AuthMetadataConfig {
  /** Base URL of the external authorization server; "" = not configured (Unimplemented / 501). */
  externalAuthServerBaseUrl: string;
  /** Metadata path relative to the base URL. Default ".well-known/oauth-authorization-server" ("" means the same). */
  externalMetadataUrl: string;
  /** Fetch attempts per refresh. Default 5 (0 means the same). */
  retryAttempts: number;
  /** Pause between attempts (ms). Default 1s (0 means the same). */
  retryDelay: number;
  /** Header clients put tokens in. Default "authorization" ("" means the same). */
  authorizationMetadataKey: string;
  flyteClient: FlyteClientConfig;
}

/**
 * Names of the proxy-forwarded headers the caller's identity is read from
 * (`runs.identityHeaders.*`). An empty name turns that header off.
 * `Authorization: Bearer` is always read, whatever these say.
 */
export interface IdentityHeadersConfig {
  /** A JWT whose payload holds the OIDC claims. Default "X-Amzn-Oidc-Data" (AWS ALB). */
  claimsJwtHeader: string;
  /** The subject as a plain value. Default "X-Amzn-Oidc-Identity" (AWS ALB). */
  subjectHeader: string;
  /** The email as a plain value, read with subjectHeader. Default "" (oauth2-proxy: "X-Auth-Request-Email"). */
  emailHeader: string;
}

export interface RunsConfig {
  server: ServerConfig;
  /** Accepted for compatibility; nothing reads it. */
  watchBufferSize: number;
  actionsServiceUrl: string;
  storagePrefix: string;
  seedProjects: string[];
  domains: DomainConfig[];
  triggerScheduler: TriggerSchedulerConfig;
  abortReconciler: AbortReconcilerConfig;
  authMetadata: AuthMetadataConfig;
  /**
   * Whether the caller's identity (a run's executed_by, UserInfo) is taken
   * from the forwarded headers. Their JWTs are decoded, never signature-checked:
   * only safe behind a proxy that authenticates and strips client copies. Default true.
   */
  trustForwardedIdentityHeaders: boolean;
  identityHeaders: IdentityHeadersConfig;
}

export interface PostgresConfig {
  host: string;
  port: number;
  dbname: string;
  username: string;
  /** Replaced by the trimmed content of `passwordPath` when that is set. */
  password: string;
  passwordPath: string;
  /** Extra DSN options, e.g. "sslmode=disable". */
  options: string;
  /** Accepted for compatibility; unused. */
  readReplicaHost: string;
  /** Accepted for compatibility; unused. */
  debug: boolean;
}

export interface DatabaseConfig {
  /**
   * Which backend the configuration chose: exactly one of `database.sqlite`
   * and `database.postgres` (or a deprecated top-level `database.host` …)
   * must be present.
   */
  kind: "sqlite" | "postgres";
  maxIdleConnections: number;
  maxOpenConnections: number;
  /** Longest time a pooled connection is reused (ms). */
  connMaxLifeTime: number;
  /** Our own key (`database.sqlite.file`), as in the seed README. */
  sqlite: { file: string };
  postgres: PostgresConfig;
}

export interface LoggerConfig {
  /** 0 panic, 1 fatal, 2 error, 3 warn, 4 info, 5 debug. */
  level: number;
  showSource: boolean;
  mute: boolean;
  formatter: { type: string };
}

/** The reference's `otel` section (flytestdlib/otelutils/config.go). */
export interface OtelConfig {
  /** noop (default), file, jaeger, otlpgrpc or otlphttp. */
  type: string;
  file: { filename: string };
  jaeger: { endpoint: string };
  otlpgrpc: { endpoint: string };
  otlphttp: { endpoint: string };
  /** parentSampler: "always" or "traceid"; traceIdRatio applies to "traceid". */
  sampler: { parentSampler: string; traceIdRatio: number };
}

export interface StorageConfig {
  /** s3, minio, local, mem or stow. */
  type: string;
  /** Bucket (or directory) every reference must live in. */
  container: string;
  enableMulticontainer: boolean;
  /** `config` keys are lower-cased, as the reference's loader does. */
  stow: { kind: string; config: Record<string, string> };
  /** Deprecated connection settings, still honoured by the reference. */
  connection: {
    endpoint: string;
    authType: string;
    accessKey: string;
    secretKey: string;
    region: string;
    disableSsl: boolean;
  };
  limits: { maxDownloadMBs: number };
}

export interface Config {
  /** Path of the file that was loaded, or undefined when none was found. */
  configFile?: string;
  runs: RunsConfig;
  database: DatabaseConfig;
  logger: LoggerConfig;
  storage: StorageConfig;
  otel: OtelConfig;
}

/** Any configuration problem. The message is one line naming the offending key. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * The built-in defaults (the reference's, plus our own keys). Returns a
 * fresh object each call, so callers may mutate it.
 *
 * `database.kind` has no real default: loading fails unless the
 * configuration picks a backend. "sqlite" here is only a placeholder.
 */
export function defaultConfig(): Config {
  return {
    runs: {
      server: {
        host: "0.0.0.0",
        port: 8090,
        maxRequestBytes: 64 * 1024 * 1024,
        cors: { allowedOrigins: [] },
        metrics: { enabled: true, path: "/metrics" },
      },
      watchBufferSize: 100,
      actionsServiceUrl: "http://localhost:8090",
      storagePrefix: "file:///tmp/flyte/data",
      seedProjects: ["flytesnacks"],
      domains: [
        { id: "development", name: "Development" },
        { id: "production", name: "Production" },
        { id: "staging", name: "Staging" },
      ],
      triggerScheduler: {
        enabled: true,
        resyncInterval: 30_000,
        maxCatchupRunsPerLoop: 100,
        executionQps: 10,
        executionBurst: 20,
      },
      abortReconciler: {
        workers: 5,
        maxAttempts: 10,
        queueSize: 1000,
        initialDelay: 1_000,
        maxDelay: 5 * 60_000,
      },
      authMetadata: {
        externalAuthServerBaseUrl: "",
        externalMetadataUrl: ".well-known/oauth-authorization-server",
        retryAttempts: 5,
        retryDelay: 1_000,
        authorizationMetadataKey: "authorization",
        flyteClient: { clientId: "", redirectUri: "", scopes: [], audience: "" },
      },
      trustForwardedIdentityHeaders: true,
      identityHeaders: {
        claimsJwtHeader: "X-Amzn-Oidc-Data",
        subjectHeader: "X-Amzn-Oidc-Identity",
        emailHeader: "",
      },
    },
    database: {
      kind: "sqlite",
      maxIdleConnections: 10,
      maxOpenConnections: 100,
      connMaxLifeTime: 60 * 60_000,
      sqlite: { file: "./runs.db" },
      postgres: {
        host: "localhost",
        port: 30001,
        dbname: "postgres",
        username: "postgres",
        password: "postgres",
        passwordPath: "",
        options: "sslmode=disable",
        readReplicaHost: "localhost",
        debug: false,
      },
    },
    logger: {
      level: 3,
      showSource: false,
      mute: false,
      formatter: { type: "json" },
    },
    storage: {
      type: "s3",
      container: "",
      enableMulticontainer: false,
      stow: { kind: "", config: {} },
      connection: {
        endpoint: "",
        authType: "iam",
        accessKey: "",
        secretKey: "",
        region: "us-east-1",
        disableSsl: false,
      },
      limits: { maxDownloadMBs: 2 },
    },
    otel: {
      type: "noop",
      file: { filename: "/tmp/trace.txt" },
      jaeger: { endpoint: "http://localhost:14268/api/traces" },
      otlpgrpc: { endpoint: "http://localhost:4317" },
      otlphttp: { endpoint: "http://localhost:4318/v1/traces" },
      sampler: { parentSampler: "always", traceIdRatio: 0.01 },
    },
  };
}

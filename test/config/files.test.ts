import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig, loadConfig } from "../../src/config/index.js";
import { configErrorOf, loadYaml, SQLITE_YAML, tempDir, writeTemp } from "./helpers.js";

// The reference's runs/config.yaml (v2.0.16).
const REFERENCE_CONFIG_YAML = `# Runs Service Configuration

runs:
  server:
    host: "0.0.0.0"
    port: 8090
  watchBufferSize: 100
  queueServiceUrl: "http://localhost:8089"
  storagePrefix: "s3://flyte-data"
  seedProjects:
    - "flytesnacks"
  domains:
    - id: "development"
      name: "Development"
    - id: "production"
      name: "Production"
    - id: "staging"
      name: "Staging"

database:
  postgres:
    host: "localhost"
    port: 5432
    dbname: "flyte_runs"
    username: "postgres"
    password: "postgres"
    options: "sslmode=disable"
  maxIdleConnections: 10
  maxOpenConnections: 100
  connMaxLifeTime: 1h

logger:
  level: 4  # Info level
  show-source: true

storage:
  type: minio
  container: "flyte-data"
  enable-multicontainer: false
  stow:
    kind: "s3"
    config:
      auth_type: "accesskey"
      access_key_id: "minioadmin"
      secret_key: "minioadmin"
      region: "us-east-1"
      endpoint: "http://localhost:9000"
      disable_ssl: "true"
`;

// The reference's runs/config-postgres.yaml (v2.0.16).
const REFERENCE_CONFIG_POSTGRES_YAML = `# Runs Service Configuration - PostgreSQL

runs:
  server:
    host: "0.0.0.0"
    port: 8090
  watchBufferSize: 100
  queueServiceUrl: "http://localhost:8089"

database:
  # Using PostgreSQL
  postgres:
    host: "postgres"
    port: 5432
    dbname: "flyte_runs"
    username: "postgres"
    password: "postgres"
    extraOptions: "sslmode=disable"
  maxIdleConnections: 10
  maxOpenConnections: 100
  connMaxLifeTime: 1h

logger:
  level: 4  # Info level
  show-source: true
`;

// The SQLite config shown in the seed README.
const README_SQLITE_YAML = `
runs:
  server:
    host: "0.0.0.0"
    port: 8090
  watchBufferSize: 100

database:
  sqlite:
    file: "./runs.db"

logger:
  level: 4  # Info level
  show-source: true
`;

describe("defaults", () => {
  it("match the reference's defaults", () => {
    const d = defaultConfig();
    expect(d.runs).toEqual({
      server: { host: "0.0.0.0", port: 8090, maxRequestBytes: 67_108_864, cors: { allowedOrigins: [] }, metrics: { enabled: true, path: "/metrics" } },
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
      abortReconciler: { workers: 5, maxAttempts: 10, queueSize: 1000, initialDelay: 1_000, maxDelay: 300_000 },
      // The reference's zero values mean these in its service; spelled out here.
      authMetadata: {
        externalAuthServerBaseUrl: "",
        externalMetadataUrl: ".well-known/oauth-authorization-server",
        retryAttempts: 5,
        retryDelay: 1_000,
        authorizationMetadataKey: "authorization",
        flyteClient: { clientId: "", redirectUri: "", scopes: [], audience: "" },
      },
      trustForwardedIdentityHeaders: true,
      identityHeaders: { claimsJwtHeader: "X-Amzn-Oidc-Data", subjectHeader: "X-Amzn-Oidc-Identity", emailHeader: "" },
    });
    expect(d.database).toMatchObject({
      maxIdleConnections: 10,
      maxOpenConnections: 100,
      connMaxLifeTime: 3_600_000,
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
    });
    expect(d.logger).toEqual({ level: 3, showSource: false, mute: false, formatter: { type: "json" } });
    expect(d.storage).toEqual({
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
    });
    expect(d.configFile).toBeUndefined();
  });

  it("are a fresh copy on every call", () => {
    const a = defaultConfig();
    a.runs.seedProjects.push("x");
    a.runs.domains[0].id = "changed";
    expect(defaultConfig().runs.seedProjects).toEqual(["flytesnacks"]);
    expect(defaultConfig().runs.domains[0].id).toBe("development");
  });

  it("fill in everything a file leaves out", () => {
    const cfg = loadYaml(SQLITE_YAML);
    const expected = defaultConfig();
    expected.database.sqlite.file = "./test.db";
    expect({ ...cfg, configFile: undefined }).toEqual(expected);
  });
});

describe("reference and README config files", () => {
  it("loads the reference runs/config.yaml as postgres", () => {
    const cfg = loadYaml(REFERENCE_CONFIG_YAML);
    expect(cfg.database.kind).toBe("postgres");
    expect(cfg.database.postgres).toMatchObject({
      host: "localhost",
      port: 5432,
      dbname: "flyte_runs",
      username: "postgres",
      password: "postgres",
      options: "sslmode=disable",
    });
    expect(cfg.database.connMaxLifeTime).toBe(3_600_000);
    expect(cfg.runs.storagePrefix).toBe("s3://flyte-data");
    expect(cfg.runs.seedProjects).toEqual(["flytesnacks"]);
    expect(cfg.logger).toMatchObject({ level: 4, showSource: true });
    expect(cfg.storage).toMatchObject({
      type: "minio",
      container: "flyte-data",
      enableMulticontainer: false,
      stow: {
        kind: "s3",
        config: {
          auth_type: "accesskey",
          access_key_id: "minioadmin",
          secret_key: "minioadmin",
          region: "us-east-1",
          endpoint: "http://localhost:9000",
          disable_ssl: "true",
        },
      },
    });
  });

  it("loads the reference runs/config-postgres.yaml (extraOptions is not a key)", () => {
    const cfg = loadYaml(REFERENCE_CONFIG_POSTGRES_YAML);
    expect(cfg.database.kind).toBe("postgres");
    expect(cfg.database.postgres).toMatchObject({
      host: "postgres",
      port: 5432,
      dbname: "flyte_runs",
      username: "postgres",
      password: "postgres",
      options: "sslmode=disable", // the default, untouched by extraOptions
    });
    expect(cfg.runs.watchBufferSize).toBe(100);
  });

  it("loads the seed README's SQLite config", () => {
    const cfg = loadYaml(README_SQLITE_YAML);
    expect(cfg.database.kind).toBe("sqlite");
    expect(cfg.database.sqlite.file).toBe("./runs.db");
    expect(cfg.runs.server).toMatchObject({ host: "0.0.0.0", port: 8090 });
    expect(cfg.runs.watchBufferSize).toBe(100);
    expect(cfg.logger).toMatchObject({ level: 4, showSource: true });
  });

  it("accepts an empty sqlite section and uses the default file", () => {
    const cfg = loadYaml("database:\n  sqlite: {}\n");
    expect(cfg.database.kind).toBe("sqlite");
    expect(cfg.database.sqlite.file).toBe("./runs.db");
  });

  it("accepts a JSON file", () => {
    const file = writeTemp("config.json", JSON.stringify({ database: { sqlite: { file: "j.db" } } }));
    const cfg = loadConfig({ argv: [`--config=${file}`], env: {}, searchDirs: [] });
    expect(cfg.database.sqlite.file).toBe("j.db");
    expect(cfg.configFile).toBe(file);
  });
});

describe("file search", () => {
  it("uses config.yaml from the working directory when --config is absent", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "config.yaml"), "runs:\n  server:\n    port: 7001\n" + SQLITE_YAML);
    const cfg = loadConfig({ argv: [], env: {}, cwd: dir });
    expect(cfg.configFile).toBe(join(dir, "config.yaml"));
    expect(cfg.runs.server.port).toBe(7001);
  });

  it("takes the first search directory that has a config.yaml", () => {
    const first = tempDir();
    const second = tempDir();
    mkdirSync(join(first, "empty"));
    writeFileSync(join(second, "config.yaml"), SQLITE_YAML + "runs:\n  server:\n    port: 7002\n");
    const cfg = loadConfig({ argv: [], env: {}, cwd: first, searchDirs: ["empty", second] });
    expect(cfg.configFile).toBe(join(second, "config.yaml"));
    expect(cfg.runs.server.port).toBe(7002);
  });

  it("resolves a relative --config against cwd", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "my.yaml"), SQLITE_YAML);
    const cfg = loadConfig({ argv: ["--config", "my.yaml"], env: {}, cwd: dir, searchDirs: [] });
    expect(cfg.configFile).toBe(join(dir, "my.yaml"));
  });

  it("with no file found, uses defaults plus env and flags", () => {
    const cfg = loadConfig({
      argv: ["--database.sqlite.file", "flag.db"],
      env: {},
      cwd: tempDir(),
      searchDirs: ["."],
    });
    expect(cfg.configFile).toBeUndefined();
    expect(cfg.database.kind).toBe("sqlite");
    expect(cfg.database.sqlite.file).toBe("flag.db");
  });

  it("with no file and no database settings, fails on the missing database", () => {
    const err = configErrorOf(() => loadConfig({ argv: [], env: {}, cwd: tempDir(), searchDirs: ["."] }));
    expect(err.message).toBe(
      "config: database: no database configured; set database.sqlite.file or database.postgres.*",
    );
  });
});

describe("keys", () => {
  it("are matched case-insensitively at every level", () => {
    const cfg = loadYaml(`
RUNS:
  Server:
    PORT: 9100
    HOST: 127.0.0.1
  SEEDPROJECTS: [a]
  Domains:
    - ID: dev
      NAME: Dev
  TriggerScheduler:
    ResyncInterval: 1m
    EXECUTIONQPS: 2.5
Database:
  SQLite:
    FILE: upper.db
  MAXIDLECONNECTIONS: 3
Logger:
  Show-Source: true
  Formatter:
    Type: text
Storage:
  Enable-MultiContainer: true
  Limits:
    MAXDOWNLOADMBS: 9
  Connection:
    Auth-Type: accesskey
    Disable-SSL: true
  Stow:
    Config:
      Access_Key_ID: k
`);
    expect(cfg.runs.server).toMatchObject({ port: 9100, host: "127.0.0.1" });
    expect(cfg.runs.seedProjects).toEqual(["a"]);
    expect(cfg.runs.domains).toEqual([{ id: "dev", name: "Dev" }]);
    expect(cfg.runs.triggerScheduler).toMatchObject({ resyncInterval: 60_000, executionQps: 2.5 });
    expect(cfg.database).toMatchObject({ kind: "sqlite", sqlite: { file: "upper.db" }, maxIdleConnections: 3 });
    expect(cfg.logger).toMatchObject({ showSource: true, formatter: { type: "text" } });
    expect(cfg.storage).toMatchObject({
      enableMulticontainer: true,
      limits: { maxDownloadMBs: 9 },
      connection: { authType: "accesskey", disableSsl: true },
      stow: { config: { access_key_id: "k" } },
    });
  });

  it("ignores unknown keys, including the seed-era ones", () => {
    const cfg = loadYaml(`
runs:
  queueServiceUrl: http://localhost:8089
  watchBufferSize: 5
  somethingNew: { a: [1, 2] }
  database:
    postgres:
      host: ignored
database:
  postgres:
    extraOptions: sslmode=require
  enableForeignKeyConstraintWhenMigrating: true
otel:
  type: noop
`);
    expect(cfg.runs.watchBufferSize).toBe(5);
    expect(cfg.database.postgres.options).toBe("sslmode=disable");
    expect(cfg.database.postgres.host).toBe("localhost");
  });

  it("lets lists replace the default list", () => {
    const cfg = loadYaml(
      SQLITE_YAML +
        `
runs:
  seedProjects: [p1, p2]
  domains:
    - {id: qa, name: QA}
  server:
    cors:
      allowedOrigins: ["https://a.example", "*"]
`,
    );
    expect(cfg.runs.seedProjects).toEqual(["p1", "p2"]);
    expect(cfg.runs.domains).toEqual([{ id: "qa", name: "QA" }]);
    expect(cfg.runs.server.cors.allowedOrigins).toEqual(["https://a.example", "*"]);
  });

  it("accepts an empty list", () => {
    const cfg = loadYaml(SQLITE_YAML + "runs:\n  seedProjects: []\n");
    expect(cfg.runs.seedProjects).toEqual([]);
  });

  it("leaves the default for a key with no value", () => {
    const cfg = loadYaml(SQLITE_YAML + "runs:\n  server:\n    port:\n");
    expect(cfg.runs.server.port).toBe(8090);
  });

  it("accepts numeric strings for numbers and true/false strings for booleans", () => {
    const cfg = loadYaml(
      SQLITE_YAML +
        `
runs:
  server:
    port: "8091"
  triggerScheduler:
    enabled: "false"
    executionQps: "2.5"
logger:
  level: "5"
  show-source: "true"
  mute: "1"
`,
    );
    expect(cfg.runs.server.port).toBe(8091);
    expect(cfg.runs.triggerScheduler.enabled).toBe(false);
    expect(cfg.runs.triggerScheduler.executionQps).toBe(2.5);
    expect(cfg.logger).toMatchObject({ level: 5, showSource: true, mute: true });
  });

  it("turns a comma-separated string into a list and scalars into strings", () => {
    const cfg = loadYaml(SQLITE_YAML + "runs:\n  seedProjects: a,b\n  storagePrefix: 42\n");
    expect(cfg.runs.seedProjects).toEqual(["a", "b"]);
    expect(cfg.runs.storagePrefix).toBe("42");
  });

  it("reads durations as Go strings, bare numbers as nanoseconds", () => {
    const cfg = loadYaml(
      SQLITE_YAML +
        `
  connMaxLifeTime: 1h30m
runs:
  triggerScheduler:
    resyncInterval: 2000000000
  abortReconciler:
    initialDelay: 250ms
    maxDelay: 1m
`,
    );
    expect(cfg.database.connMaxLifeTime).toBe(5_400_000);
    expect(cfg.runs.triggerScheduler.resyncInterval).toBe(2_000);
    expect(cfg.runs.abortReconciler).toMatchObject({ initialDelay: 250, maxDelay: 60_000 });
  });

  it("supports YAML anchors and merge keys", () => {
    const cfg = loadYaml(`
x-common: &common
  host: shared-host
  port: 6543
database:
  postgres:
    <<: *common
    dbname: merged
`);
    expect(cfg.database.postgres).toMatchObject({ host: "shared-host", port: 6543, dbname: "merged" });
  });
});

describe("deprecated top-level database keys", () => {
  it("override database.postgres.* and choose postgres", () => {
    const cfg = loadYaml(`
database:
  postgres:
    host: new-host
    port: 5432
  host: old-host
  port: 6000
  dbname: old-db
  username: old-user
  password: old-pass
  options: sslmode=require
  debug: true
`);
    expect(cfg.database.kind).toBe("postgres");
    expect(cfg.database.postgres).toMatchObject({
      host: "old-host",
      port: 6000,
      dbname: "old-db",
      username: "old-user",
      password: "old-pass",
      options: "sslmode=require",
      debug: true,
    });
  });

  it("count as postgres on their own", () => {
    const cfg = loadYaml("database:\n  host: legacy\n");
    expect(cfg.database.kind).toBe("postgres");
    expect(cfg.database.postgres.host).toBe("legacy");
    expect(cfg.database.postgres.port).toBe(30001);
  });

  it("do not override with empty values", () => {
    const cfg = loadYaml('database:\n  postgres:\n    host: kept\n  host: ""\n  port: 0\n');
    expect(cfg.database.postgres.host).toBe("kept");
    expect(cfg.database.postgres.port).toBe(30001);
  });

  it("lose to flags", () => {
    const cfg = loadYaml("database:\n  host: from-file\n", ["--database.postgres.host", "from-flag"]);
    expect(cfg.database.postgres.host).toBe("from-flag");
  });
});

describe("database.postgres.passwordPath", () => {
  it("replaces the password with the trimmed file content", () => {
    const secret = writeTemp("pw.txt", "  s3cret\n\n");
    const cfg = loadYaml(`database:\n  postgres:\n    password: inline\n    passwordPath: ${secret}\n`);
    expect(cfg.database.postgres.password).toBe("s3cret");
    expect(cfg.database.postgres.passwordPath).toBe(secret);
  });

  it("also works through the deprecated top-level key", () => {
    const secret = writeTemp("pw.txt", "legacy-secret");
    const cfg = loadYaml(`database:\n  passwordPath: ${secret}\n`);
    expect(cfg.database.kind).toBe("postgres");
    expect(cfg.database.postgres.password).toBe("legacy-secret");
  });

  it("resolves a relative path against cwd", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pw"), "rel");
    writeFileSync(join(dir, "config.yaml"), "database:\n  postgres:\n    passwordPath: pw\n");
    const cfg = loadConfig({ argv: [], env: {}, cwd: dir, searchDirs: ["."] });
    expect(cfg.database.postgres.password).toBe("rel");
  });

  it("fails when the file is missing", () => {
    const missing = join(tempDir(), "nope.txt");
    const err = configErrorOf(() => loadYaml(`database:\n  postgres:\n    passwordPath: ${missing}\n`));
    expect(err.message).toMatch(/^config: database\.postgres\.passwordPath: cannot read ".*nope\.txt" \(ENOENT\)$/);
  });
});

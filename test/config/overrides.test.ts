import { describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../src/config/index.js";
import { configErrorOf, loadYaml, SQLITE_YAML, writeTemp } from "./helpers.js";

const POSTGRES_YAML = "database:\n  postgres:\n    host: file-host\n";

/** Loads the postgres file with extra flags. */
const withFlags = (...argv: string[]): Config => loadYaml(POSTGRES_YAML, argv);

describe("command-line flags (the reference's config_flags_test, with section prefixes)", () => {
  // [flag, value, read back]
  const cases: Array<[string, string, (c: Config) => unknown, unknown]> = [
    ["runs.server.port", "1", (c) => c.runs.server.port, 1],
    ["runs.server.host", "1", (c) => c.runs.server.host, "1"],
    ["database.maxIdleConnections", "1", (c) => c.database.maxIdleConnections, 1],
    ["database.maxOpenConnections", "1", (c) => c.database.maxOpenConnections, 1],
    ["database.connMaxLifeTime", "1s", (c) => c.database.connMaxLifeTime, 1_000],
    ["database.postgres.host", "1", (c) => c.database.postgres.host, "1"],
    ["database.postgres.readReplicaHost", "1", (c) => c.database.postgres.readReplicaHost, "1"],
    ["database.postgres.port", "1", (c) => c.database.postgres.port, 1],
    ["database.postgres.dbname", "1", (c) => c.database.postgres.dbname, "1"],
    ["database.postgres.username", "1", (c) => c.database.postgres.username, "1"],
    ["database.postgres.password", "1", (c) => c.database.postgres.password, "1"],
    ["database.postgres.options", "1", (c) => c.database.postgres.options, "1"],
    ["runs.watchBufferSize", "1", (c) => c.runs.watchBufferSize, 1],
    ["runs.actionsServiceUrl", "1", (c) => c.runs.actionsServiceUrl, "1"],
    ["runs.storagePrefix", "1", (c) => c.runs.storagePrefix, "1"],
    ["runs.seedProjects", "1,1", (c) => c.runs.seedProjects, ["1", "1"]],
    // logger and storage sections
    ["logger.level", "5", (c) => c.logger.level, 5],
    ["logger.formatter.type", "text", (c) => c.logger.formatter.type, "text"],
    ["storage.type", "mem", (c) => c.storage.type, "mem"],
    ["storage.container", "bucket", (c) => c.storage.container, "bucket"],
    ["storage.connection.access-key", "ak", (c) => c.storage.connection.accessKey, "ak"],
    ["storage.limits.maxDownloadMBs", "7", (c) => c.storage.limits.maxDownloadMBs, 7],
    ["storage.stow.config", "a=1,B=2", (c) => c.storage.stow.config, { a: "1", b: "2" }],
    // our own keys
    ["runs.server.maxRequestBytes", "1024", (c) => c.runs.server.maxRequestBytes, 1024],
    ["runs.server.cors.allowedOrigins", "*", (c) => c.runs.server.cors.allowedOrigins, ["*"]],
    ["runs.abortReconciler.workers", "2", (c) => c.runs.abortReconciler.workers, 2],
    ["runs.abortReconciler.maxDelay", "10m", (c) => c.runs.abortReconciler.maxDelay, 600_000],
  ];

  it.each(cases)("--%s %s", (flag, value, read, expected) => {
    expect(read(withFlags(`--${flag}`, value))).toEqual(expected);
    expect(read(withFlags(`--${flag}=${value}`))).toEqual(expected);
  });

  it("--database.postgres.debug (a boolean: bare or with =value)", () => {
    expect(withFlags("--database.postgres.debug").database.postgres.debug).toBe(true);
    expect(withFlags("--database.postgres.debug=1").database.postgres.debug).toBe(true);
    expect(withFlags("--database.postgres.debug=false").database.postgres.debug).toBe(false);
  });

  it("--database.postgres.passwordPath reads the password file", () => {
    const secret = writeTemp("pw", "from-file\n");
    const cfg = withFlags("--database.postgres.passwordPath", secret);
    expect(cfg.database.postgres.passwordPath).toBe(secret);
    expect(cfg.database.postgres.password).toBe("from-file");
  });

  it("accepts the reference's unused database.enableForeignKeyConstraintWhenMigrating flag", () => {
    expect(() => withFlags("--database.enableForeignKeyConstraintWhenMigrating")).not.toThrow();
  });

  it("override file values", () => {
    const cfg = loadYaml("runs:\n  server:\n    port: 8000\n  seedProjects: [x]\n" + SQLITE_YAML, [
      "--runs.server.port",
      "9000",
      "--runs.seedProjects=a,b",
    ]);
    expect(cfg.runs.server.port).toBe(9000);
    expect(cfg.runs.seedProjects).toEqual(["a", "b"]);
  });

  it("booleans: bare flag means true, =false turns off", () => {
    expect(withFlags("--logger.show-source").logger.showSource).toBe(true);
    const off = loadYaml(POSTGRES_YAML + "logger:\n  show-source: true\n", ["--logger.show-source=false"]);
    expect(off.logger.showSource).toBe(false);
    expect(withFlags("--storage.enable-multicontainer").storage.enableMulticontainer).toBe(true);
  });

  it("repeating a list flag appends; repeating a scalar flag keeps the last", () => {
    const cfg = withFlags("--runs.seedProjects", "a", "--runs.seedProjects", "b,c", "--logger.level=1", "--logger.level=2");
    expect(cfg.runs.seedProjects).toEqual(["a", "b", "c"]);
    expect(cfg.logger.level).toBe(2);
  });

  it("an empty list flag gives an empty list", () => {
    expect(withFlags("--runs.seedProjects=").runs.seedProjects).toEqual([]);
  });

  it("flag names are matched case-insensitively", () => {
    expect(withFlags("--RUNS.SEEDPROJECTS", "z").runs.seedProjects).toEqual(["z"]);
  });

  it("a database flag alone chooses the backend", () => {
    const cfg = loadConfig({ argv: ["--database.postgres.host", "h"], env: {}, searchDirs: [] });
    expect(cfg.database.kind).toBe("postgres");
    expect(cfg.database.postgres.host).toBe("h");
  });

  it("rejects unknown flags, naming them", () => {
    expect(configErrorOf(() => withFlags("--runs.nope", "1")).message).toBe("config: unknown flag --runs.nope");
    expect(configErrorOf(() => withFlags("-v")).message).toMatch(/^config: unknown flag "-v"/);
    // No flags for domains and the trigger scheduler, as in the reference.
    expect(configErrorOf(() => withFlags("--runs.triggerScheduler.enabled=false")).message).toBe(
      "config: unknown flag --runs.triggerScheduler.enabled",
    );
    // The deprecated top-level database keys have no flags either.
    expect(configErrorOf(() => withFlags("--database.host", "x")).message).toBe("config: unknown flag --database.host");
  });

  it("points --runs.database.* users at --database.*", () => {
    const err = configErrorOf(() => withFlags("--runs.database.postgres.host", "h"));
    expect(err.message).toBe(
      "config: unknown flag --runs.database.postgres.host: runs.database is not used by this port; use --database.postgres.host",
    );
  });

  it("rejects stray arguments, with a hint after a boolean flag", () => {
    expect(configErrorOf(() => withFlags("serve")).message).toBe('config: unexpected argument "serve"');
    expect(configErrorOf(() => withFlags("--logger.mute", "false")).message).toBe(
      'config: unexpected argument "false"; boolean flags take their value after "=", e.g. --logger.mute=false',
    );
  });

  it("rejects a value-taking flag at the end of argv", () => {
    expect(configErrorOf(() => withFlags("--runs.server.port")).message).toBe(
      "config: flag --runs.server.port needs a value",
    );
  });

  it("names the flag when its value is bad", () => {
    expect(configErrorOf(() => withFlags("--runs.server.port", "abc")).message).toBe(
      'config: runs.server.port (flag --runs.server.port): expected an integer, got "abc"',
    );
    expect(configErrorOf(() => withFlags("--logger.mute=maybe")).message).toBe(
      'config: logger.mute (flag --logger.mute): expected true or false, got "maybe"',
    );
  });
});

describe("environment variables", () => {
  it("use the upper-cased dotted key", () => {
    const cfg = loadYaml(SQLITE_YAML, [], {
      "RUNS.SERVER.PORT": "9001",
      "RUNS.SEEDPROJECTS": "e1,e2",
      "DATABASE.MAXOPENCONNECTIONS": "7",
      "RUNS.TRIGGERSCHEDULER.RESYNCINTERVAL": "5s",
    });
    expect(cfg.runs.server.port).toBe(9001);
    expect(cfg.runs.seedProjects).toEqual(["e1", "e2"]);
    expect(cfg.database.maxOpenConnections).toBe(7);
    expect(cfg.runs.triggerScheduler.resyncInterval).toBe(5_000);
  });

  it("accept '-' or '_' in keys that contain a dash", () => {
    expect(loadYaml(SQLITE_YAML, [], { "LOGGER.SHOW_SOURCE": "true" }).logger.showSource).toBe(true);
    expect(loadYaml(SQLITE_YAML, [], { "LOGGER.SHOW-SOURCE": "true" }).logger.showSource).toBe(true);
  });

  it("are ignored in other spellings or when empty", () => {
    const cfg = loadYaml(SQLITE_YAML, [], {
      RUNS_SERVER_PORT: "1",
      "runs.server.port": "2",
      "RUNS.SERVER.HOST": "",
    });
    expect(cfg.runs.server.port).toBe(8090);
    expect(cfg.runs.server.host).toBe("0.0.0.0");
  });

  it("override the file and lose to flags", () => {
    const yaml = SQLITE_YAML + "runs:\n  server:\n    port: 8000\n    host: file-host\n";
    const cfg = loadYaml(yaml, ["--runs.server.port=9999"], {
      "RUNS.SERVER.PORT": "9001",
      "RUNS.SERVER.HOST": "env-host",
    });
    expect(cfg.runs.server.port).toBe(9999);
    expect(cfg.runs.server.host).toBe("env-host");
  });

  it("can set domains as a YAML list and stow config as k=v pairs", () => {
    const cfg = loadYaml(SQLITE_YAML, [], {
      "RUNS.DOMAINS": "[{id: dev, name: Dev}]",
      "STORAGE.STOW.CONFIG": "region=eu-west-1,Endpoint=http://x",
    });
    expect(cfg.runs.domains).toEqual([{ id: "dev", name: "Dev" }]);
    expect(cfg.storage.stow.config).toEqual({ region: "eu-west-1", endpoint: "http://x" });
  });

  it("can choose the database", () => {
    const cfg = loadConfig({ argv: [], env: { "DATABASE.SQLITE.FILE": "env.db" }, searchDirs: [] });
    expect(cfg.database.kind).toBe("sqlite");
    expect(cfg.database.sqlite.file).toBe("env.db");
  });

  it("name the variable when the value is bad", () => {
    expect(configErrorOf(() => loadYaml(SQLITE_YAML, [], { "RUNS.SERVER.PORT": "x" })).message).toBe(
      'config: runs.server.port (env RUNS.SERVER.PORT): expected an integer, got "x"',
    );
  });
});

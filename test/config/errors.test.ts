import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { configErrorOf, loadYaml, SQLITE_YAML, tempDir, writeTemp } from "./helpers.js";

const errorFor = (yaml: string) => configErrorOf(() => loadYaml(yaml)).message;

describe("config errors are one-line ConfigErrors naming the key", () => {
  it("a missing explicit config file names the path", () => {
    const missing = join(tempDir(), "absent.yaml");
    const err = configErrorOf(() => loadConfig({ argv: ["--config", missing], env: {}, searchDirs: [] }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(JSON.stringify(missing));
    expect(err.message).toMatch(/^config: config file .* not found/);
  });

  it("a directory given as --config is rejected", () => {
    const dir = tempDir();
    expect(configErrorOf(() => loadConfig({ argv: ["--config", dir], env: {}, searchDirs: [] })).message).toMatch(
      /is not a regular file$/,
    );
  });

  it("an unsupported file type is rejected", () => {
    const file = writeTemp("config.toml", "a = 1\n");
    expect(configErrorOf(() => loadConfig({ argv: ["--config", file], env: {}, searchDirs: [] })).message).toMatch(
      /unsupported config file type "\.toml"/,
    );
  });

  it("bad YAML names the file and the line", () => {
    const file = writeTemp("config.yaml", "runs:\n  server:\n    port: [8090\n  host: x\n");
    const err = configErrorOf(() => loadConfig({ argv: ["--config", file], env: {}, searchDirs: [] }));
    expect(err.message).toContain(`config: ${file}: invalid YAML at line `);
    expect(err.message).not.toContain("\n");
  });

  it("duplicate keys are bad YAML", () => {
    const message = errorFor("runs:\n  watchBufferSize: 1\n  watchBufferSize: 2\n");
    expect(message).toMatch(/invalid YAML at line 3, column 3: Map keys must be unique/);
  });

  it("a top-level list is rejected", () => {
    expect(errorFor("- a\n- b\n")).toMatch(/expected a mapping of sections at the top level$/);
  });

  it("a section that is not a mapping is rejected", () => {
    expect(errorFor("runs: 5\n")).toBe("config: runs: expected a mapping, got 5");
    expect(errorFor("runs:\n  server: [1]\n")).toBe("config: runs.server: expected a mapping, got a list");
  });

  it.each([
    ['runs:\n  server:\n    port: "abc"\n', 'config: runs.server.port: expected an integer, got "abc"'],
    ["runs:\n  server:\n    port: 80.5\n", "config: runs.server.port: expected an integer, got 80.5"],
    ["runs:\n  server:\n    port: true\n", "config: runs.server.port: expected an integer, got true"],
    ["runs:\n  watchBufferSize: {a: 1}\n", "config: runs.watchBufferSize: expected an integer, got a mapping"],
    ["runs:\n  triggerScheduler:\n    executionQps: fast\n", 'config: runs.triggerScheduler.executionQps: expected a number, got "fast"'],
    ["logger:\n  show-source: maybe\n", 'config: logger.show-source: expected true or false, got "maybe"'],
    ["runs:\n  server:\n    host: [a]\n", "config: runs.server.host: expected a string, got a list"],
    ["runs:\n  seedProjects: {a: 1}\n", "config: runs.seedProjects: expected a list of strings, got a mapping"],
    ["runs:\n  seedProjects: [[a]]\n", "config: runs.seedProjects: item 0: expected a string, got a list"],
    ["runs:\n  domains: dev\n", 'config: runs.domains: expected a list of {id, name} mappings, got "dev"'],
    ["runs:\n  domains: [dev]\n", 'config: runs.domains: item 0: expected a mapping, got "dev"'],
    ["runs:\n  domains: [{name: Dev}]\n", "config: runs.domains: item 0: id must not be empty"],
    ["storage:\n  stow:\n    config: [a]\n", "config: storage.stow.config: expected a mapping, got a list"],
  ])("type mismatch: %j", (yaml, message) => {
    expect(errorFor(SQLITE_YAML + yaml)).toBe(message);
  });

  it.each([
    ["runs:\n  server:\n    port: 65536\n", "config: runs.server.port: port must be between 0 and 65535, got 65536"],
    ["runs:\n  server:\n    port: -1\n", "config: runs.server.port: port must be between 0 and 65535, got -1"],
    ["runs:\n  server:\n    maxRequestBytes: 0\n", "config: runs.server.maxRequestBytes: must be at least 1, got 0"],
    ["database:\n  postgres:\n    port: 0\n", "config: database.postgres.port: port must be between 1 and 65535, got 0"],
    ["database:\n  sqlite: {file: x}\n  maxIdleConnections: -1\n", "config: database.maxIdleConnections: must not be negative, got -1"],
    ["database:\n  sqlite: {file: x}\n  maxOpenConnections: -5\n", "config: database.maxOpenConnections: must not be negative, got -5"],
    ['database:\n  sqlite:\n    file: ""\n', "config: database.sqlite.file: must not be empty"],
    ["database:\n  sqlite: {file: x}\nruns:\n  triggerScheduler:\n    resyncInterval: 0s\n", "config: runs.triggerScheduler.resyncInterval: must be a positive duration, got 0ms"],
    ["database:\n  sqlite: {file: x}\nruns:\n  abortReconciler:\n    workers: 0\n", "config: runs.abortReconciler.workers: must be at least 1, got 0"],
  ])("out of range: %j", (yaml, message) => {
    expect(errorFor(yaml)).toBe(message);
  });

  it("the abort reconciler's max delay may not be below its initial delay", () => {
    expect(errorFor(SQLITE_YAML + "runs:\n  abortReconciler:\n    initialDelay: 10s\n    maxDelay: 1s\n")).toBe(
      "config: runs.abortReconciler.maxDelay: must not be shorter than runs.abortReconciler.initialDelay (1000ms < 10000ms)",
    );
  });

  it.each([
    ["database:\n  connMaxLifeTime: forever\n  sqlite: {}\n", "database.connMaxLifeTime"],
    // A quoted number has no unit (a bare YAML number would be nanoseconds).
    ['database:\n  connMaxLifeTime: "30"\n  sqlite: {}\n', "database.connMaxLifeTime"],
    ["database:\n  sqlite: {}\nruns:\n  triggerScheduler:\n    resyncInterval: 10 minutes\n", "runs.triggerScheduler.resyncInterval"],
    ["database:\n  sqlite: {}\nruns:\n  abortReconciler:\n    initialDelay: -1s\n", "runs.abortReconciler.initialDelay"],
  ])("bad duration: %j", (yaml, key) => {
    const message = errorFor(yaml);
    expect(message.startsWith(`config: ${key}: `)).toBe(true);
    expect(message).toMatch(/duration/);
  });

  it("both database backends", () => {
    const message = "config: database: both sqlite and postgres are configured; choose one";
    expect(errorFor("database:\n  sqlite:\n    file: a.db\n  postgres:\n    host: h\n")).toBe(message);
    expect(errorFor("database:\n  sqlite:\n    file: a.db\n  host: legacy\n")).toBe(message);
    expect(configErrorOf(() => loadYaml(SQLITE_YAML, ["--database.postgres.host", "h"])).message).toBe(message);
    expect(configErrorOf(() => loadYaml(SQLITE_YAML, [], { "DATABASE.POSTGRES.PORT": "5432" })).message).toBe(message);
  });

  it("no database backend", () => {
    const message = "config: database: no database configured; set database.sqlite.file or database.postgres.*";
    expect(errorFor("runs:\n  server:\n    port: 8090\n")).toBe(message);
    expect(errorFor("database:\n  maxIdleConnections: 1\n")).toBe(message);
    expect(errorFor("")).toBe(message);
  });
});

import { describe, expect, it } from "vitest";
import { configErrorOf, loadYaml, SQLITE_YAML } from "./helpers.js";
import { otlpHttpMetricsUrl } from "../../src/telemetry/otel.js";

describe("the otel section (the reference's keys and defaults)", () => {
  it("defaults to noop with the reference's endpoints and sampler", () => {
    const c = loadYaml(SQLITE_YAML);
    expect(c.otel).toEqual({
      type: "noop",
      file: { filename: "/tmp/trace.txt" },
      jaeger: { endpoint: "http://localhost:14268/api/traces" },
      otlpgrpc: { endpoint: "http://localhost:4317" },
      otlphttp: { endpoint: "http://localhost:4318/v1/traces" },
      sampler: { parentSampler: "always", traceIdRatio: 0.01 },
    });
    expect(c.runs.server.metrics).toEqual({ enabled: true, path: "/metrics" });
  });

  it("reads every key from the file, env and flags", () => {
    const c = loadYaml(
      SQLITE_YAML +
        "otel:\n  type: otlphttp\n  otlphttp:\n    endpoint: http://collector:4318/v1/traces\n  sampler:\n    parentSampler: traceid\n    traceIdRatio: 0.5\n",
      ["--otel.file.filename", "/var/trace.json"],
      { "OTEL.OTLPGRPC.ENDPOINT": "http://collector:4317" },
    );
    expect(c.otel).toMatchObject({
      type: "otlphttp",
      file: { filename: "/var/trace.json" },
      otlpgrpc: { endpoint: "http://collector:4317" },
      otlphttp: { endpoint: "http://collector:4318/v1/traces" },
      sampler: { parentSampler: "traceid", traceIdRatio: 0.5 },
    });
  });

  it("rejects an unknown exporter or sampler, and a ratio outside [0, 1]", () => {
    expect(configErrorOf(() => loadYaml(SQLITE_YAML + "otel:\n  type: zipkin\n")).message).toMatch(/otel\.type.*must be one of noop, file, jaeger, otlpgrpc, otlphttp/);
    expect(configErrorOf(() => loadYaml(SQLITE_YAML + "otel:\n  sampler:\n    parentSampler: never\n")).message).toMatch(/otel\.sampler\.parentSampler/);
    expect(configErrorOf(() => loadYaml(SQLITE_YAML + "otel:\n  sampler:\n    traceIdRatio: 2\n")).message).toMatch(/otel\.sampler\.traceIdRatio/);
  });

  it("turns /metrics off or moves it", () => {
    const c = loadYaml(SQLITE_YAML + "runs:\n  server:\n    metrics:\n      enabled: false\n      path: /prom\n");
    expect(c.runs.server.metrics).toEqual({ enabled: false, path: "/prom" });
    expect(configErrorOf(() => loadYaml(SQLITE_YAML + "runs:\n  server:\n    metrics:\n      path: prom\n")).message).toMatch(/must start with "\/"/);
  });

  it("sends OTLP/HTTP metrics beside the traces URL", () => {
    expect(otlpHttpMetricsUrl("http://localhost:4318/v1/traces")).toBe("http://localhost:4318/v1/metrics");
    expect(otlpHttpMetricsUrl("http://collector/otlp")).toBe("http://collector/otlp");
  });
});

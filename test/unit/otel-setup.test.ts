import pino from "pino";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../../src/config/index.js";
import { createTelemetry } from "../../src/telemetry/otel.js";

function capture() {
  const lines: { level: number; msg: string }[] = [];
  return { lines, logger: pino({ level: "debug" }, { write: (l: string) => void lines.push(JSON.parse(l)) }) };
}

describe("createTelemetry", () => {
  it("builds nothing for noop (the default)", async () => {
    const { lines, logger } = capture();
    const t = await createTelemetry(defaultConfig().otel, logger);
    expect(t.tracer).toBeUndefined();
    expect(t.meter).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it("says in one start-up line that jaeger is not supported, and exports nothing", async () => {
    const { lines, logger } = capture();
    const otel = { ...defaultConfig().otel, type: "jaeger" };
    const t = await createTelemetry(otel, logger);
    expect(t.tracer).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40 });
    expect(lines[0].msg).toMatch(/otel\.type jaeger is not supported/);
  });

  it("refuses an unknown exporter type, as the reference does", async () => {
    const otel = { ...defaultConfig().otel, type: "zipkin" };
    await expect(createTelemetry(otel, capture().logger)).rejects.toThrow("unknown otel exporter type [zipkin]");
  });
});

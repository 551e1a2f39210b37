/**
 * OpenTelemetry set-up from the reference's `otel` section: a tracer and a
 * meter for the service `runs-service`, exporting through the configured
 * exporter. `noop` (the default) builds nothing at all: no provider, no
 * context manager, no interceptor, so the request path is unchanged.
 *
 * The providers are not registered globally (like the reference, which keeps
 * one provider per service name); only the AsyncLocalStorage context manager
 * is, because the active span must follow a call through its awaits.
 */
import { context, type Meter, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPMetricExporter as OtlpGrpcMetricExporter } from "@opentelemetry/exporter-metrics-otlp-grpc";
import { OTLPMetricExporter as OtlpHttpMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter as OtlpGrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as OtlpHttpTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { Logger } from "pino";
import type { OtelConfig } from "../config/index.js";
import { createFileExporters } from "./file-exporter.js";

/** The reference's service name for the Runs Service's tracer and meter. */
export const OTEL_SERVICE_NAME = "runs-service";
const SERVICE_VERSION = "0.1.0";

export interface Telemetry {
  /** undefined when nothing is exported (`noop`, or a type this port cannot export). */
  readonly tracer: Tracer | undefined;
  readonly meter: Meter | undefined;
  /** Exports what is buffered (tests; shutdown does it too). */
  forceFlush(): Promise<void>;
  /** Flushes and stops the exporters. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** Batch delay of the span processor (ms); default 5 s, the SDK's. */
  spanExportDelayMs?: number;
  /** Interval of the periodic metric export (ms); default 60 s, the SDK's. */
  metricExportIntervalMs?: number;
}

const NOOP: Telemetry = {
  tracer: undefined,
  meter: undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

interface Exporters {
  spans: SpanExporter;
  metrics?: PushMetricExporter;
}

/** The OTLP/HTTP endpoint is the traces URL; metrics go to its `/v1/metrics` sibling. */
export function otlpHttpMetricsUrl(tracesUrl: string): string {
  return tracesUrl.endsWith("/v1/traces") ? tracesUrl.slice(0, -"/v1/traces".length) + "/v1/metrics" : tracesUrl;
}

function exportersFor(cfg: OtelConfig, logger: Logger): Exporters | undefined {
  switch (cfg.type) {
    case "noop":
      return undefined;
    case "file":
      return createFileExporters(cfg.file.filename);
    case "jaeger":
      // The JavaScript SDK's Jaeger exporter was retired (it needs the 2.x SDK and jaeger-client);
      // Jaeger ingests OTLP itself, so otlphttp/otlpgrpc pointed at it is the way.
      logger.warn(
        { endpoint: cfg.jaeger.endpoint },
        "otel.type jaeger is not supported by this port (no Jaeger exporter for the OpenTelemetry JS SDK); tracing is off — use otlphttp or otlpgrpc against Jaeger's OTLP port",
      );
      return undefined;
    case "otlpgrpc":
      return {
        spans: new OtlpGrpcTraceExporter({ url: cfg.otlpgrpc.endpoint }),
        metrics: new OtlpGrpcMetricExporter({ url: cfg.otlpgrpc.endpoint }),
      };
    case "otlphttp":
      return {
        spans: new OtlpHttpTraceExporter({ url: cfg.otlphttp.endpoint }),
        metrics: new OtlpHttpMetricExporter({ url: otlpHttpMetricsUrl(cfg.otlphttp.endpoint) }),
      };
    default:
      throw new Error(`unknown otel exporter type [${cfg.type}]`);
  }
}

function samplerFor(cfg: OtelConfig): Sampler {
  switch (cfg.sampler.parentSampler) {
    case "always":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "traceid":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.sampler.traceIdRatio) });
    default:
      throw new Error(`unknown otel sampler type [${cfg.sampler.parentSampler}]`);
  }
}

let contextManagerSet = false;

export function createTelemetry(cfg: OtelConfig, logger: Logger, opts: TelemetryOptions = {}): Telemetry {
  const sampler = samplerFor(cfg);
  const exporters = exportersFor(cfg, logger);
  if (!exporters) return NOOP;
  if (!contextManagerSet) {
    // false when another component registered one first; that one serves as well.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    contextManagerSet = true;
  }
  const resource = defaultResource().merge(
    resourceFromAttributes({ [ATTR_SERVICE_NAME]: OTEL_SERVICE_NAME, [ATTR_SERVICE_VERSION]: SERVICE_VERSION }),
  );
  const tracerProvider = new TracerProvider({
    resource,
    sampler,
    spanProcessors: [
      new BatchSpanProcessor({ exporter: exporters.spans, scheduledDelayMillis: opts.spanExportDelayMs ?? 5000 }),
    ],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: exporters.metrics
      ? [
          new PeriodicExportingMetricReader({
            exporter: exporters.metrics,
            exportIntervalMillis: opts.metricExportIntervalMs ?? 60_000,
          }),
        ]
      : [],
  });
  logger.info({ type: cfg.type, sampler: cfg.sampler.parentSampler }, "OpenTelemetry exporting");
  return {
    tracer: tracerProvider.getTracer(OTEL_SERVICE_NAME),
    meter: meterProvider.getMeter(OTEL_SERVICE_NAME),
    async forceFlush() {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}

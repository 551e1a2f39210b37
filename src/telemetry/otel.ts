/**
 * OpenTelemetry set-up from the reference's `otel` section: a tracer and a
 * meter for the service `runs-service`, exporting through the configured
 * exporter. `noop` (the default) builds nothing at all: no provider, no
 * context manager, no interceptor, so the request path is unchanged.
 *
 * The SDK and exporters are imported only when something is exported, so a
 * noop service does not even load them.
 *
 * The providers are not registered globally (like the reference, which keeps
 * one provider per service name); only the AsyncLocalStorage context manager
 * is, because the active span must follow a call through its awaits.
 */
import { context, type Meter, type Tracer } from "@opentelemetry/api";
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { Sampler, SpanExporter } from "@opentelemetry/sdk-trace";
import type { Logger } from "pino";
import type { OtelConfig } from "../config/index.js";

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

async function exportersFor(cfg: OtelConfig, logger: Logger): Promise<Exporters | undefined> {
  switch (cfg.type) {
    case "noop":
      return undefined;
    case "file":
      return (await import("./file-exporter.js")).createFileExporters(cfg.file.filename);
    case "jaeger":
      // @opentelemetry/exporter-jaeger is deprecated, built on the 2.x SDK and jaeger-client; Jaeger
      // ingests OTLP itself, so otlphttp/otlpgrpc pointed at Jaeger is the supported way.
      logger.warn(
        { endpoint: cfg.jaeger.endpoint },
        "otel.type jaeger is not supported by this port (the OpenTelemetry JS Jaeger exporter is deprecated); nothing is exported: point otel.otlphttp or otel.otlpgrpc at Jaeger's OTLP port instead",
      );
      return undefined;
    case "otlpgrpc": {
      const [traces, metrics] = await Promise.all([
        import("@opentelemetry/exporter-trace-otlp-grpc"),
        import("@opentelemetry/exporter-metrics-otlp-grpc"),
      ]);
      return {
        spans: new traces.OTLPTraceExporter({ url: cfg.otlpgrpc.endpoint }),
        metrics: new metrics.OTLPMetricExporter({ url: cfg.otlpgrpc.endpoint }),
      };
    }
    case "otlphttp": {
      const [traces, metrics] = await Promise.all([
        import("@opentelemetry/exporter-trace-otlp-http"),
        import("@opentelemetry/exporter-metrics-otlp-http"),
      ]);
      return {
        spans: new traces.OTLPTraceExporter({ url: cfg.otlphttp.endpoint }),
        metrics: new metrics.OTLPMetricExporter({ url: otlpHttpMetricsUrl(cfg.otlphttp.endpoint) }),
      };
    }
    default:
      throw new Error(`unknown otel exporter type [${cfg.type}]`);
  }
}

type SdkTrace = typeof import("@opentelemetry/sdk-trace");

function samplerFor(cfg: OtelConfig, sdk: SdkTrace): Sampler {
  const { AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = sdk;
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

export async function createTelemetry(cfg: OtelConfig, logger: Logger, opts: TelemetryOptions = {}): Promise<Telemetry> {
  const exporters = await exportersFor(cfg, logger);
  if (!exporters) return NOOP;
  const [sdkTrace, { MeterProvider, PeriodicExportingMetricReader }, { defaultResource, resourceFromAttributes }, { AsyncLocalStorageContextManager }, semconv] =
    await Promise.all([
      import("@opentelemetry/sdk-trace"),
      import("@opentelemetry/sdk-metrics"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/context-async-hooks"),
      import("@opentelemetry/semantic-conventions"),
    ]);
  const { BatchSpanProcessor, TracerProvider } = sdkTrace;
  const sampler = samplerFor(cfg, sdkTrace);
  const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = semconv;
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

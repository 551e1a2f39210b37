/**
 * `otel.type: file`: spans and metrics appended to `otel.file.filename`, one
 * JSON object per line (`{"span": …}` or `{"metrics": …}`). The reference
 * pretty-prints the Go stdout exporters' structs into the file; the JavaScript
 * SDK has no file exporter, so this is our own line format, easy to read with
 * `jq` and to parse in tests. The file is truncated at start-up, as
 * `os.Create` does in the reference.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from "@opentelemetry/core";
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";

/** One exported span as written to the file. */
export interface FileSpan {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startUnixMicros: number;
  durationMicros: number;
  status: { code: string; message?: string };
  attributes: Record<string, unknown>;
  service: unknown;
}

export function spanToJson(span: ReadableSpan): FileSpan {
  const ctx = span.spanContext();
  return {
    name: span.name,
    kind: SpanKind[span.kind],
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    startUnixMicros: hrTimeToMicroseconds(span.startTime),
    durationMicros: hrTimeToMicroseconds(span.duration),
    status: { code: SpanStatusCode[span.status.code], message: span.status.message },
    attributes: { ...span.attributes },
    service: span.resource.attributes["service.name"],
  };
}

function metricsToJson(metrics: ResourceMetrics): unknown {
  return metrics.scopeMetrics.flatMap((scope) =>
    scope.metrics.map((m) => ({
      name: m.descriptor.name,
      unit: m.descriptor.unit,
      points: m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })),
    })),
  );
}

export function createFileExporters(filename: string): { spans: SpanExporter; metrics: PushMetricExporter } {
  let fd: number | undefined = openSync(filename, "w");
  let users = 2;
  const write = (line: unknown, done: (result: ExportResult) => void) => {
    if (fd === undefined) {
      done({ code: ExportResultCode.FAILED, error: new Error("file exporter is shut down") });
      return;
    }
    try {
      writeSync(fd, JSON.stringify(line, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) + "\n");
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  };
  const release = async () => {
    if (--users === 0 && fd !== undefined) {
      closeSync(fd);
      fd = undefined;
    }
  };
  return {
    spans: {
      export(spans, done) {
        let result: ExportResult = { code: ExportResultCode.SUCCESS };
        for (const span of spans) {
          write({ span: spanToJson(span) }, (r) => {
            if (r.code !== ExportResultCode.SUCCESS) result = r;
          });
        }
        done(result);
      },
      shutdown: release,
      forceFlush: async () => undefined,
    },
    metrics: {
      export(metrics, done) {
        write({ metrics: metricsToJson(metrics) }, done);
      },
      forceFlush: async () => undefined,
      shutdown: release,
      selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    },
  };
}

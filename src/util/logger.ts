import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import type { Config } from "../config/index.js";

/** The reference's numeric levels (0 panic … 5 debug) as pino level names. */
export function pinoLevel(level: number): pino.Level {
  if (level <= 1) return "fatal";
  if (level === 2) return "error";
  if (level === 3) return "warn";
  if (level === 4) return "info";
  if (level === 5) return "debug";
  return "trace";
}

/**
 * `logger.formatter.type: text` (the reference's key) writes one human-readable
 * line per entry: time, level, component, message, then the other fields as
 * compact JSON. Anything else is pino's JSON, one object per line.
 */
export function createLogger(config: Config["logger"], destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.mute ? "silent" : pinoLevel(config.level),
    base: { service: "runs" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (config.formatter.type === "text") {
    const stream = pretty({
      destination: destination ?? 1,
      sync: true,
      colorize: false,
      singleLine: true,
      translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'",
      ignore: "pid,hostname,service,component",
      errorLikeObjectKeys: [],
      messageFormat: "{if component}[{component}] {end}{msg}",
    });
    // pino-pretty prints pino's errorKey as a multi-line block; with another errorKey an `err`
    // field (stack included) stays on the line as JSON like every other field.
    return pino({ ...options, errorKey: "error_object" }, stream);
  }
  return destination ? pino(options, destination) : pino(options);
}

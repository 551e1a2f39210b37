import pino, { type Logger } from "pino";
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

export function createLogger(config: Config["logger"], destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.mute ? "silent" : pinoLevel(config.level),
    base: { service: "runs" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export {
  ConfigError,
  defaultConfig,
  type AbortReconcilerConfig,
  type Config,
  type DatabaseConfig,
  type DomainConfig,
  type IdentityHeadersConfig,
  type LoggerConfig,
  type PostgresConfig,
  type RunsConfig,
  type ServerConfig,
  type StorageConfig,
  type TriggerSchedulerConfig,
} from "./types.js";
export { loadConfig, type LoadConfigOptions } from "./load.js";
export { configUsage } from "./argv.js";
export { parseDuration, durationToMs, formatDuration } from "./duration.js";

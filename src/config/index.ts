export {
  ConfigError,
  defaultConfig,
  type AbortReconcilerConfig,
  type AuthMetadataConfig,
  type Config,
  type DatabaseConfig,
  type DomainConfig,
  type FlyteClientConfig,
  type IdentityHeadersConfig,
  type LoggerConfig,
  type OtelConfig,
  type PostgresConfig,
  type RunsConfig,
  type ServerConfig,
  type StorageConfig,
  type TriggerSchedulerConfig,
} from "./types.js";
export { loadConfig, type LoadConfigOptions } from "./load.js";
export { configUsage } from "./argv.js";
export { parseDuration, durationToMs, formatDuration } from "./duration.js";

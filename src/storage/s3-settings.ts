import { ConfigError, type Config } from "../config/types.js";

/**
 * Which stow backend the `storage.*` config selects, and its settings map:
 * `storage.stow` when both its kind and config are given, otherwise the
 * deprecated `storage.connection` block turned into an s3 map (as the
 * reference does).
 */
export interface StowBackend {
  kind: string;
  /** Lower-cased stow keys (auth_type, access_key_id, secret_key, token, region, endpoint, disable_ssl, …). */
  config: Record<string, string>;
  /** True when the settings came from the deprecated `storage.connection` block. */
  legacy: boolean;
}

export function resolveStowBackend(storage: Config["storage"]): StowBackend {
  const stowConfig = storage.stow.config ?? {};
  if (storage.stow.kind !== "" && Object.keys(stowConfig).length > 0) {
    return { kind: storage.stow.kind, config: { ...stowConfig }, legacy: false };
  }
  const c = storage.connection;
  const config: Record<string, string> = { auth_type: c.authType, region: c.region };
  if (c.endpoint !== "") config.endpoint = c.endpoint;
  if (c.accessKey !== "") config.access_key_id = c.accessKey;
  if (c.secretKey !== "") config.secret_key = c.secretKey;
  if (c.disableSsl) config.disable_ssl = "true";
  return { kind: "s3", config, legacy: true };
}

export type S3Credentials =
  | { kind: "static"; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** The SDK's default chain: environment, shared files, web identity, container and instance roles. */
  | { kind: "default-chain" };

export interface S3Settings {
  region: string;
  /** Custom endpoint URL (MinIO, RustFS, …); undefined means AWS itself. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`); on whenever an endpoint is set. */
  forcePathStyle: boolean;
  credentials: S3Credentials;
  /** Settings present in the config that this port does not act on (logged once). */
  unsupported: string[];
}

const DEFAULT_REGION = "us-east-1";

/** The S3 client settings a stow `s3` backend describes. Throws ConfigError on invalid values. */
export function s3SettingsFrom(backend: StowBackend): S3Settings {
  const cfg = backend.config;
  const keyName = (key: string) => configKeyName(backend, key);

  const authType = (cfg.auth_type ?? "") === "" ? "accesskey" : cfg.auth_type;
  if (authType !== "accesskey" && authType !== "iam") {
    throw new ConfigError(`${keyName("auth_type")}: invalid value ${JSON.stringify(authType)}; expected accesskey or iam`);
  }
  let credentials: S3Credentials = { kind: "default-chain" };
  if (authType === "accesskey") {
    if (!("access_key_id" in cfg)) throw new ConfigError(`${keyName("access_key_id")} is required when the auth type is accesskey`);
    if (!("secret_key" in cfg)) throw new ConfigError(`${keyName("secret_key")} is required when the auth type is accesskey`);
    credentials = { kind: "static", accessKeyId: cfg.access_key_id, secretAccessKey: cfg.secret_key };
    if (cfg.token) credentials.sessionToken = cfg.token;
  }

  const region = cfg.region ? cfg.region : DEFAULT_REGION;
  const disableSsl = (cfg.disable_ssl ?? "").toLowerCase() === "true";
  let endpoint: string | undefined;
  if (cfg.endpoint !== undefined && cfg.endpoint !== "") {
    // A bare host:port gets a scheme; disable_ssl only matters then (as in the reference's SDK).
    endpoint = /^[a-z][a-z0-9+.-]*:\/\//i.test(cfg.endpoint)
      ? cfg.endpoint
      : `${disableSsl ? "http" : "https"}://${cfg.endpoint}`;
    try {
      new URL(endpoint);
    } catch {
      throw new ConfigError(`${keyName("endpoint")}: not a valid URL: ${JSON.stringify(cfg.endpoint)}`);
    }
  }

  const unsupported: string[] = [];
  if ((cfg.v2_signing ?? "").toLowerCase() === "true") unsupported.push(keyName("v2_signing"));

  return { region, endpoint, forcePathStyle: endpoint !== undefined, credentials, unsupported };
}

const LEGACY_KEYS: Record<string, string> = {
  auth_type: "storage.connection.auth-type",
  access_key_id: "storage.connection.access-key",
  secret_key: "storage.connection.secret-key",
  region: "storage.connection.region",
  endpoint: "storage.connection.endpoint",
  disable_ssl: "storage.connection.disable-ssl",
};

function configKeyName(backend: StowBackend, key: string): string {
  return backend.legacy && LEGACY_KEYS[key] ? LEGACY_KEYS[key] : `storage.stow.config.${key}`;
}

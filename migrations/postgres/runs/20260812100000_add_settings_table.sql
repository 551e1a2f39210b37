-- Settings (SettingsService): one row per scope, keyed "v1:<org>:<domain>:<project>"
-- (empty segments for the org and domain levels). `data` is the
-- flyteidl2.settings.Settings message in proto3 JSON; `version` starts at 1 and
-- grows by one on every update, which is how concurrent editors are told apart.
-- Same version name, table, columns and types as the reference's migration of
-- this name, so a database migrated by either service needs nothing here.
CREATE TABLE IF NOT EXISTS settings (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    data        JSONB NOT NULL DEFAULT '{}',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
);

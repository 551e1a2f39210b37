-- SQLite equivalent of the settings table (SettingsService): one row per scope,
-- keyed "v1:<org>:<domain>:<project>". JSONB becomes TEXT holding the
-- proto3 JSON of flyteidl2.settings.Settings (checked to be JSON), BIGSERIAL
-- an autoincrement key, TIMESTAMPTZ canonical UTC text as elsewhere.
CREATE TABLE IF NOT EXISTS settings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    data        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);

-- SQLite equivalent of the reference schema (same tables, columns and keys).
-- Type mapping: TIMESTAMPTZ -> TEXT holding canonical UTC timestamps with
-- microseconds (they sort as text), BYTEA -> BLOB, BOOLEAN -> INTEGER 0/1,
-- BIGSERIAL -> INTEGER PRIMARY KEY AUTOINCREMENT.
-- actions additionally carries `id` and `org` (empty) so the seed README's
-- inspection query `SELECT id, org, ... FROM actions` works as printed; the
-- reference's primary key becomes a unique index with the same columns.

CREATE TABLE IF NOT EXISTS projects (
    identifier  TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 300),
    labels      BLOB,
    state       INTEGER DEFAULT 0,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX IF NOT EXISTS idx_projects_state ON projects (state);

CREATE TABLE IF NOT EXISTS actions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org                 TEXT NOT NULL DEFAULT '',
    project             TEXT NOT NULL,
    domain              TEXT NOT NULL,
    run_name            TEXT NOT NULL DEFAULT '',
    name                TEXT NOT NULL,
    parent_action_name  TEXT,
    phase               INTEGER NOT NULL DEFAULT 1,
    run_source          TEXT NOT NULL DEFAULT '',
    action_type         INTEGER NOT NULL DEFAULT 0,
    action_group        TEXT,
    task_project        TEXT,
    task_domain         TEXT,
    task_name           TEXT,
    task_version        TEXT,
    task_type           TEXT NOT NULL DEFAULT '',
    task_short_name     TEXT,
    function_name       TEXT NOT NULL DEFAULT '',
    environment_name    TEXT,
    action_spec         BLOB,
    action_details      BLOB,
    detailed_info       BLOB,
    run_spec            BLOB,
    abort_requested_at  TEXT,
    abort_attempt_count INTEGER NOT NULL DEFAULT 0,
    abort_reason        TEXT,
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    ended_at            TEXT,
    duration_ms         INTEGER,
    attempts            INTEGER NOT NULL DEFAULT 0,
    cache_status        INTEGER NOT NULL DEFAULT 0,
    trigger_name        TEXT,
    trigger_task_name   TEXT,
    trigger_revision    INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_actions_key ON actions (project, domain, run_name, name);
CREATE INDEX IF NOT EXISTS idx_actions_run_lookup ON actions (project, domain, run_name);
CREATE INDEX IF NOT EXISTS idx_actions_parent ON actions (parent_action_name);
CREATE INDEX IF NOT EXISTS idx_actions_phase ON actions (phase);
CREATE INDEX IF NOT EXISTS idx_actions_created ON actions (created_at);
CREATE INDEX IF NOT EXISTS idx_actions_abort_pending ON actions (abort_requested_at);

CREATE TABLE IF NOT EXISTS action_events (
    project     TEXT NOT NULL,
    domain      TEXT NOT NULL,
    run_name    TEXT NOT NULL,
    name        TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    phase       INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    info        BLOB,
    error_kind  TEXT,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    PRIMARY KEY (project, domain, run_name, name, attempt, phase, version)
);
CREATE INDEX IF NOT EXISTS idx_action_events_error_kind ON action_events (error_kind);

CREATE TABLE IF NOT EXISTS tasks (
    project                 TEXT NOT NULL,
    domain                  TEXT NOT NULL,
    name                    TEXT NOT NULL,
    version                 TEXT NOT NULL,
    environment             TEXT NOT NULL DEFAULT '',
    function_name           TEXT NOT NULL DEFAULT '',
    created_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    deployed_by             TEXT NOT NULL DEFAULT '',
    trigger_name            TEXT,
    total_triggers          INTEGER NOT NULL DEFAULT 0,
    active_triggers         INTEGER NOT NULL DEFAULT 0,
    trigger_automation_spec BLOB,
    trigger_types           TEXT,
    task_spec               BLOB,
    env_description         TEXT,
    short_description       TEXT,
    PRIMARY KEY (project, domain, name, version)
);

CREATE TABLE IF NOT EXISTS task_specs (
    digest      TEXT PRIMARY KEY,
    spec        BLOB NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);

CREATE TABLE IF NOT EXISTS triggers (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    project          TEXT NOT NULL,
    domain           TEXT NOT NULL,
    task_name        TEXT NOT NULL,
    name             TEXT NOT NULL,
    latest_revision  INTEGER NOT NULL DEFAULT 1,
    spec             BLOB NOT NULL,
    automation_spec  BLOB,
    task_version     TEXT NOT NULL,
    active           INTEGER NOT NULL,
    automation_type  TEXT NOT NULL DEFAULT 'TYPE_NONE',
    deployed_by      TEXT,
    updated_by       TEXT,
    deployed_at      TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    triggered_at     TEXT,
    deleted_at       TEXT,
    description      TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_triggers_name ON triggers (project, domain, task_name, name);
CREATE INDEX IF NOT EXISTS idx_triggers_schedule_lookup ON triggers (active, automation_type);

CREATE TABLE IF NOT EXISTS trigger_revisions (
    project          TEXT NOT NULL,
    domain           TEXT NOT NULL,
    task_name        TEXT NOT NULL,
    name             TEXT NOT NULL,
    revision         INTEGER NOT NULL,
    spec             BLOB NOT NULL,
    automation_spec  BLOB,
    task_version     TEXT NOT NULL,
    active           INTEGER NOT NULL,
    automation_type  TEXT NOT NULL DEFAULT 'TYPE_NONE',
    deployed_by      TEXT,
    updated_by       TEXT,
    deployed_at      TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    triggered_at     TEXT,
    deleted_at       TEXT,
    action           TEXT NOT NULL,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    PRIMARY KEY (project, domain, task_name, name, revision)
);

-- Port-only: root actions whose ActionsService.Enqueue has not been accepted
-- yet. CreateRun records the request here before its first attempt and
-- deletes it once the executor accepts it; the enqueue retrier
-- (src/service/enqueue-retrier.ts) retries what is left, also after a
-- restart. A separate table, so the reference's schema stays untouched.
CREATE TABLE IF NOT EXISTS pending_enqueues (
    project          TEXT NOT NULL,
    domain           TEXT NOT NULL,
    run_name         TEXT NOT NULL,
    name             TEXT NOT NULL,
    -- Binary flyteidl2.actions.EnqueueRequest, replayed as is.
    request          BYTEA NOT NULL,
    -- Attempts started so far (the first one is CreateRun's own).
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- Earliest time of the next attempt; while an attempt runs, the end of its lease.
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project, domain, run_name, name)
);
CREATE INDEX IF NOT EXISTS idx_pending_enqueues_next_attempt ON pending_enqueues (next_attempt_at);

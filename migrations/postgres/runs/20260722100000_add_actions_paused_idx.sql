-- Reference version runs/20260722100000_add_actions_paused_idx (v2.0.43).
-- Paused actions (phase 9, ACTION_PHASE_PAUSED) are few; a partial index on them
-- answers "does this run have a paused action" without scanning the run.
CREATE INDEX IF NOT EXISTS idx_actions_paused
    ON actions (project, domain, run_name)
    WHERE phase = 9;

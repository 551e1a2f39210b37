-- SQLite counterpart of the reference's runs/20260722100000_add_actions_paused_idx:
-- a partial index over the few paused actions (phase 9, ACTION_PHASE_PAUSED).
CREATE INDEX IF NOT EXISTS idx_actions_paused
    ON actions (project, domain, run_name)
    WHERE phase = 9;

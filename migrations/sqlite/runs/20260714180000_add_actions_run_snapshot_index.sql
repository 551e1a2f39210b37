-- SQLite counterpart of the reference's runs/20260714180000_add_actions_run_snapshot_index:
-- WatchActions pages a run's snapshot in (created_at, name) order.
CREATE INDEX IF NOT EXISTS idx_actions_run_created_name
    ON actions (project, domain, run_name, created_at, name);

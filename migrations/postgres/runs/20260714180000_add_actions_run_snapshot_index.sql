-- Reference version runs/20260714180000_add_actions_run_snapshot_index (v2.0.43).
-- A run's actions in (created_at, name) order, the order WatchActions pages its
-- initial snapshot in: each page becomes one index range scan.
CREATE INDEX IF NOT EXISTS idx_actions_run_created_name
    ON actions (project, domain, run_name, created_at, name);

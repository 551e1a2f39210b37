-- Port-only: indexes in the default order of ListActions and ListRuns (phase, then newest first, then
-- names descending), so a first page is an index range read instead of a sort of the whole run or
-- project. Equality on project/domain (and run_name for ListActions) comes first.
CREATE INDEX IF NOT EXISTS idx_actions_run_list_order
    ON actions (project, domain, run_name, phase, created_at DESC, name DESC);
-- Runs are the root actions: a partial index holds only them.
CREATE INDEX IF NOT EXISTS idx_actions_root_list_order
    ON actions (project, domain, phase, created_at DESC, run_name DESC, name DESC)
    WHERE parent_action_name IS NULL;

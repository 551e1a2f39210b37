-- This port's own (issue 18): indexes in the exact orders the lists page in, so
-- a first page is an index range scan of `limit` rows and every later page a
-- few range scans starting at its token's position, whatever the size of the
-- project or the run. Column directions and collations match the ORDER BY the
-- list builds (src/repository/list/paginate.ts): text orders under "C".

-- ListRuns, default order: phase ASC, created_at DESC, run_name DESC, name DESC,
-- within one project/domain; runs only (the root action a0 has no parent).
CREATE INDEX IF NOT EXISTS idx_actions_runs_default_order
    ON actions (project, domain, phase, created_at DESC, run_name COLLATE "C" DESC, name COLLATE "C" DESC)
    WHERE parent_action_name IS NULL;

-- ListRuns sorted by created_at DESC (the key's tie-break ascending after it).
CREATE INDEX IF NOT EXISTS idx_actions_runs_created
    ON actions (project, domain, created_at DESC, run_name COLLATE "C", name COLLATE "C")
    WHERE parent_action_name IS NULL;

-- ListActions, default order within one run: phase ASC, created_at DESC, name DESC.
CREATE INDEX IF NOT EXISTS idx_actions_run_list_order
    ON actions (project, domain, run_name, phase, created_at DESC, name COLLATE "C" DESC);

-- Port-only: the seed README's inspection query `SELECT id, org, project,
-- domain, name, root_action_name, created_at FROM runs` runs as printed.
CREATE VIEW IF NOT EXISTS runs AS
SELECT id,
       org,
       project,
       domain,
       run_name AS name,
       name     AS root_action_name,
       phase,
       run_source,
       created_at,
       updated_at,
       ended_at
  FROM actions
 WHERE parent_action_name IS NULL;

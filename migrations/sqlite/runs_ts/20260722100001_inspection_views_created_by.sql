-- Port-only: the runs view also shows who created each run.
DROP VIEW IF EXISTS runs;
CREATE VIEW runs AS
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
       ended_at,
       created_by_subject
  FROM actions
 WHERE parent_action_name IS NULL;

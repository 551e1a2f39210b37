-- Port-only. PostgreSQL expands `a.*` when a view is created, so the views of
-- 20260408110001 do not show columns added since. Re-create them after the
-- reference's created_by / created_by_subject columns (whichever service added
-- them). New view columns may only be appended, which is what this does.
CREATE OR REPLACE VIEW runs AS
SELECT ROW_NUMBER() OVER (ORDER BY created_at, project, domain, run_name) AS id,
       ''::TEXT        AS org,
       project,
       domain,
       run_name        AS name,
       name            AS root_action_name,
       phase,
       run_source,
       created_at,
       updated_at,
       ended_at,
       created_by_subject
  FROM actions
 WHERE parent_action_name IS NULL;

CREATE OR REPLACE VIEW inspect.actions AS
SELECT ROW_NUMBER() OVER (ORDER BY created_at, project, domain, run_name, name) AS id,
       ''::TEXT AS org,
       a.*
  FROM public.actions a;

CREATE OR REPLACE VIEW inspect.runs AS SELECT * FROM public.runs;

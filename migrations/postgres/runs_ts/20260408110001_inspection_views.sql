-- Port-only: read-only views for the README's inspection queries. They live
-- outside the reference's tables, so the Go service can still adopt this
-- database (its queries select * from the tables themselves).
--
-- public.runs: one row per run (the root action of each run).
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
       ended_at
  FROM actions
 WHERE parent_action_name IS NULL;

-- The seed README also selects id and org from actions. The reference's
-- actions table has neither, and adding columns would break the Go service's
-- SELECT *, so the schema "inspect" holds views with those columns; put it
-- first on the search_path (see the README) and the queries run as printed.
CREATE SCHEMA IF NOT EXISTS inspect;

CREATE OR REPLACE VIEW inspect.actions AS
SELECT ROW_NUMBER() OVER (ORDER BY created_at, project, domain, run_name, name) AS id,
       ''::TEXT AS org,
       a.*
  FROM public.actions a;

CREATE OR REPLACE VIEW inspect.runs AS SELECT * FROM public.runs;

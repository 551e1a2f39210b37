-- Reference version runs/20260618130000_add_actions_created_by (v2.0.43).
-- Who created the run: a binary flyteidl2.common.EnrichedIdentity, served as
-- the run's metadata.executed_by. NULL when the request carried no identity.
ALTER TABLE actions ADD COLUMN IF NOT EXISTS created_by BYTEA;

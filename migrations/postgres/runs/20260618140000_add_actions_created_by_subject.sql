-- Reference version runs/20260618140000_add_actions_created_by_subject (v2.0.43).
-- The subject inside created_by, as a plain indexed column so lists can filter
-- on it (the serialized identity cannot be queried). NULL without an identity.
ALTER TABLE actions ADD COLUMN IF NOT EXISTS created_by_subject TEXT;
CREATE INDEX IF NOT EXISTS idx_actions_created_by_subject ON actions (created_by_subject);

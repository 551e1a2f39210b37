-- SQLite counterpart of the reference's runs/20260618140000_add_actions_created_by_subject:
-- the subject inside created_by, filterable in list requests.
ALTER TABLE actions ADD COLUMN created_by_subject TEXT;
CREATE INDEX IF NOT EXISTS idx_actions_created_by_subject ON actions (created_by_subject);

-- SQLite counterpart of the reference's runs/20260618130000_add_actions_created_by:
-- the creator's binary flyteidl2.common.EnrichedIdentity (metadata.executed_by).
ALTER TABLE actions ADD COLUMN created_by BLOB;

-- Landfall schema v10 (the tamper-evident release log). Never edit a released migration.

-- Every audit row becomes an entry of one SHA-256 hash chain (landfall_core::release_log):
-- `seq` numbers entries 1, 2, 3 … without gaps, `prev_hash` is the previous entry's `hash`.
-- Rows written before this migration get them when the server starts (they are sealed in id
-- order before anything else is written); a row without `seq` after that was inserted around the
-- server, and `landfall log verify` says so.
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_by_seq ON audit_log (seq);

-- The chain's head: the last entry's number and hash. Deleting the newest entries leaves the
-- head pointing past the end of the chain. Created by the first entry.
CREATE TABLE audit_chain (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    head  TEXT NOT NULL
);

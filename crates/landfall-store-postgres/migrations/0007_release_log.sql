-- Landfall PostgreSQL schema v7 (the tamper-evident release log; SQLite v10). Never edit a
-- released migration. Same tables and rules as the SQLite migration 0010: see its comments.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_by_seq ON audit_log (seq);

CREATE TABLE audit_chain (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    head  TEXT NOT NULL
);

-- Landfall PostgreSQL schema v2. Never edit a released migration.

-- The change feed several instances follow to keep their in-memory catalogs current: every write
-- that changes what the update check answers adds a row in its own transaction (an operator's write
-- to an app: reload the app; a device's stored channel: patch one entry). `seq` comes from the
-- single counter row below, updated in the writing transaction: its row lock makes sequence
-- numbers commit in order and without gaps, so a reader never skips a change that commits late.
-- A reader that finds a gap (pruned rows) reloads everything.
CREATE TABLE catalog_seq (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);

CREATE TABLE catalog_changes (
    seq        BIGINT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    device_id  TEXT,
    channel_id BIGINT,
    at         BIGINT NOT NULL
);

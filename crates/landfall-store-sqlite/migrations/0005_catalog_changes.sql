-- Landfall schema v5. Never edit a released migration.

-- The change feed several instances follow to keep their in-memory catalogs current: every write
-- that changes what the update check answers adds a row in its own transaction (an operator's write
-- to an app: reload the app; a device's stored channel: patch one entry). `seq` comes from the
-- single counter row below, taken in the writing transaction, so sequence numbers commit in order
-- and without gaps; a reader that finds a gap (pruned rows) reloads everything.
CREATE TABLE catalog_seq (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);

CREATE TABLE catalog_changes (
    seq        INTEGER PRIMARY KEY,
    app_id     TEXT NOT NULL,
    device_id  TEXT,
    channel_id INTEGER,
    at         INTEGER NOT NULL
);

-- Landfall schema v2: the ICP compliance desk. Timestamps are Unix epoch milliseconds; JSON
-- columns hold documents whose shape the server owns (landfall-icp types). Never edit a
-- released migration.

-- One filing per app: record, state machine and history as JSON, with an optimistic revision.
CREATE TABLE icp_filings (
    app_id      TEXT PRIMARY KEY REFERENCES apps(app_id),
    revision    INTEGER NOT NULL,
    data        TEXT NOT NULL,                   -- JSON
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL
);

-- Every recorded change of the filed details (who, when, why, what).
CREATE TABLE icp_record_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id         TEXT NOT NULL REFERENCES apps(app_id),
    at             INTEGER NOT NULL,
    actor          TEXT NOT NULL,
    reason         TEXT,
    sections       TEXT NOT NULL,                -- JSON array
    record         TEXT NOT NULL,                -- JSON FilingRecord after the change
    change_filing  INTEGER NOT NULL
);
CREATE INDEX icp_record_changes_by_app ON icp_record_changes (app_id, id);

-- Compliance documents: metadata here, bytes in the ICP blob store under sha256.
CREATE TABLE icp_documents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id        TEXT NOT NULL REFERENCES apps(app_id),
    kind          TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    meta          TEXT NOT NULL,                 -- JSON
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT NOT NULL,
    deleted_at    INTEGER
);
CREATE INDEX icp_documents_by_app ON icp_documents (app_id, id);

-- Completed compliance checks with notes, measurements and evidence files (JSON).
CREATE TABLE icp_completions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    check_kind  TEXT NOT NULL,
    done_on     TEXT NOT NULL,                   -- YYYY-MM-DD
    notes       TEXT NOT NULL,
    data        TEXT NOT NULL,                   -- JSON
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX icp_completions_by_app ON icp_completions (app_id, check_kind, done_on);

-- Incidents with their timeline and linked actions (JSON), optimistic revision.
CREATE TABLE icp_incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    revision    INTEGER NOT NULL,
    data        TEXT NOT NULL,                   -- JSON
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL
);
CREATE INDEX icp_incidents_by_app ON icp_incidents (app_id, id);

-- Per-app settings and the emergency-response set-up (JSON per key).
CREATE TABLE icp_settings (
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,                   -- JSON
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);

-- Holiday years loaded by an administrator (validated JSON), reloaded at start.
CREATE TABLE icp_calendar_years (
    year       INTEGER PRIMARY KEY,
    data       TEXT NOT NULL,
    loaded_at  INTEGER NOT NULL,
    loaded_by  TEXT NOT NULL
);

-- Landfall schema for PostgreSQL, v1. A new backend, so it starts from one file: the SQLite
-- migrations 0001_init, 0002_icp, 0003_app_keys and 0004_device_assignments_app_switches folded
-- into this single migration (same tables, same columns, same meaning). Timestamps are Unix epoch
-- milliseconds (BIGINT). JSON columns are TEXT holding serde_json documents, decoded by the same
-- helpers as SQLite's (`landfall_store::rows`). Never edit a released migration.

CREATE TABLE apps (
    app_id                  TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    expose_metadata         BOOLEAN NOT NULL DEFAULT FALSE,
    allow_device_custom_id  BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE bundles (
    id                  BIGSERIAL PRIMARY KEY,
    app_id              TEXT NOT NULL REFERENCES apps(app_id),
    version             TEXT NOT NULL,
    size                BIGINT NOT NULL,
    sha256              TEXT NOT NULL,
    min_update_version  TEXT,
    link                TEXT,
    comment             TEXT,
    variants            TEXT NOT NULL,           -- JSON array of BundleVariantRow
    created_at          BIGINT NOT NULL,
    created_by          TEXT NOT NULL,
    deleted_at          BIGINT,
    UNIQUE (app_id, version)                     -- version names are immutable, even after delete
);

CREATE TABLE channels (
    id          BIGSERIAL PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    name        TEXT NOT NULL,
    flags       TEXT NOT NULL,                   -- JSON ChannelFlags
    bundle_id   BIGINT REFERENCES bundles(id),   -- NULL = builtin
    rollout     TEXT,                            -- JSON RolloutRow
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (app_id, name)
);

CREATE TABLE channel_history (
    id          BIGSERIAL PRIMARY KEY,
    channel_id  BIGINT NOT NULL REFERENCES channels(id),
    bundle_id   BIGINT REFERENCES bundles(id),   -- NULL = builtin
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX channel_history_by_channel ON channel_history (channel_id, id);

-- One stored channel assignment per device: an operator's override or the device's own choice
-- (`set_by` = the operator's actor name, or `device`). The latest write wins.
CREATE TABLE device_overrides (
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    device_id   TEXT NOT NULL,
    channel_id  BIGINT NOT NULL REFERENCES channels(id),
    created_at  BIGINT NOT NULL,
    set_by      TEXT NOT NULL DEFAULT 'operator',
    PRIMARY KEY (app_id, device_id)
);

CREATE TABLE devices (
    app_id          TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    platform        TEXT NOT NULL,
    version_build   TEXT NOT NULL,
    version_code    TEXT NOT NULL,
    version_os      TEXT NOT NULL,
    version_name    TEXT NOT NULL,
    plugin_version  TEXT NOT NULL,
    custom_id       TEXT NOT NULL,
    is_emulator     BOOLEAN NOT NULL,
    is_prod         BOOLEAN NOT NULL,
    install_source  TEXT NOT NULL,
    channel         TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    PRIMARY KEY (app_id, device_id)
);
CREATE INDEX devices_by_last_seen ON devices (app_id, last_seen);

CREATE TABLE stats_events (
    id                BIGSERIAL PRIMARY KEY,
    app_id            TEXT NOT NULL,
    device_id         TEXT NOT NULL,
    action            TEXT NOT NULL,
    version_name      TEXT NOT NULL,
    old_version_name  TEXT NOT NULL,
    platform          TEXT NOT NULL,
    plugin_version    TEXT NOT NULL,
    at                BIGINT NOT NULL,
    received_at       BIGINT NOT NULL,
    metadata          TEXT
);
CREATE INDEX stats_by_app ON stats_events (app_id, at);

CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    app_id   TEXT NOT NULL,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL                        -- JSON
);
CREATE INDEX audit_by_app ON audit_log (app_id, at);

CREATE TABLE tokens (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,            -- sha256 hex of the secret; the secret is never stored
    scopes      TEXT NOT NULL,                   -- JSON array of Scope
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Public keys registered per app (Capgo v2 encryption).
CREATE TABLE app_keys (
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    key_id      TEXT NOT NULL,
    public_pem  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (app_id, key_id)
);

-- The ICP compliance desk (SQLite 0002_icp.sql).
CREATE TABLE icp_filings (
    app_id      TEXT PRIMARY KEY REFERENCES apps(app_id),
    revision    BIGINT NOT NULL,
    data        TEXT NOT NULL,                   -- JSON
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE icp_record_changes (
    id             BIGSERIAL PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES apps(app_id),
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    reason         TEXT,
    sections       TEXT NOT NULL,                -- JSON array
    record         TEXT NOT NULL,                -- JSON FilingRecord after the change
    change_filing  BOOLEAN NOT NULL
);
CREATE INDEX icp_record_changes_by_app ON icp_record_changes (app_id, id);

CREATE TABLE icp_documents (
    id            BIGSERIAL PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps(app_id),
    kind          TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    meta          TEXT NOT NULL,                 -- JSON
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL,
    updated_by    TEXT NOT NULL,
    deleted_at    BIGINT
);
CREATE INDEX icp_documents_by_app ON icp_documents (app_id, id);

CREATE TABLE icp_completions (
    id          BIGSERIAL PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    check_kind  TEXT NOT NULL,
    done_on     TEXT NOT NULL,                   -- YYYY-MM-DD
    notes       TEXT NOT NULL,
    data        TEXT NOT NULL,                   -- JSON
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX icp_completions_by_app ON icp_completions (app_id, check_kind, done_on);

CREATE TABLE icp_incidents (
    id          BIGSERIAL PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    revision    BIGINT NOT NULL,
    data        TEXT NOT NULL,                   -- JSON
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);
CREATE INDEX icp_incidents_by_app ON icp_incidents (app_id, id);

CREATE TABLE icp_settings (
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,                   -- JSON
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);

CREATE TABLE icp_calendar_years (
    year       INTEGER PRIMARY KEY,
    data       TEXT NOT NULL,
    loaded_at  BIGINT NOT NULL,
    loaded_by  TEXT NOT NULL
);

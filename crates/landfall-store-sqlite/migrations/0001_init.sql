-- Landfall schema v1. Timestamps are Unix epoch milliseconds. Never edit a released migration.

CREATE TABLE apps (
    app_id      TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE bundles (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id              TEXT NOT NULL REFERENCES apps(app_id),
    version             TEXT NOT NULL,
    size                INTEGER NOT NULL,
    sha256              TEXT NOT NULL,
    min_update_version  TEXT,
    link                TEXT,
    comment             TEXT,
    variants            TEXT NOT NULL,           -- JSON array of BundleVariantRow
    created_at          INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    deleted_at          INTEGER,
    UNIQUE (app_id, version)                     -- version names are immutable, even after delete
);

CREATE TABLE channels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    name        TEXT NOT NULL,
    flags       TEXT NOT NULL,                   -- JSON ChannelFlags
    bundle_id   INTEGER REFERENCES bundles(id),  -- NULL = builtin
    rollout     TEXT,                            -- JSON RolloutRow
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (app_id, name)
);

CREATE TABLE channel_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id  INTEGER NOT NULL REFERENCES channels(id),
    bundle_id   INTEGER REFERENCES bundles(id),  -- NULL = builtin
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX channel_history_by_channel ON channel_history (channel_id, id);

CREATE TABLE device_overrides (
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    device_id   TEXT NOT NULL,
    channel_id  INTEGER NOT NULL REFERENCES channels(id),
    created_at  INTEGER NOT NULL,
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
    is_emulator     INTEGER NOT NULL,
    is_prod         INTEGER NOT NULL,
    install_source  TEXT NOT NULL,
    channel         TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    PRIMARY KEY (app_id, device_id)
);
CREATE INDEX devices_by_last_seen ON devices (app_id, last_seen);

CREATE TABLE stats_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id            TEXT NOT NULL,
    device_id         TEXT NOT NULL,
    action            TEXT NOT NULL,
    version_name      TEXT NOT NULL,
    old_version_name  TEXT NOT NULL,
    platform          TEXT NOT NULL,
    plugin_version    TEXT NOT NULL,
    at                INTEGER NOT NULL,
    received_at       INTEGER NOT NULL,
    metadata          TEXT
);
CREATE INDEX stats_by_app ON stats_events (app_id, at);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id   TEXT NOT NULL,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL                        -- JSON
);
CREATE INDEX audit_by_app ON audit_log (app_id, at);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,            -- sha256 hex of the secret; the secret is never stored
    scopes      TEXT NOT NULL,                   -- JSON array of Scope
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

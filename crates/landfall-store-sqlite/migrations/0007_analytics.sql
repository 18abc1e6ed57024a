-- Landfall schema v7 (analytics). Never edit a released migration.

-- What a stats event is about, beyond the plugin's fields kept since v1: the device's OS version,
-- build kind and key, and the channel it checked in on (joined from `devices` at ingest).
ALTER TABLE stats_events ADD COLUMN version_os TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_events ADD COLUMN custom_id TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_events ADD COLUMN is_emulator INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stats_events ADD COLUMN is_prod INTEGER NOT NULL DEFAULT 1;
ALTER TABLE stats_events ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_events ADD COLUMN channel TEXT NOT NULL DEFAULT '';

-- A batch the plugin sends again after a lost answer is stored once: an event is identified by its
-- device, time (the device's own timestamp), action and version.
DELETE FROM stats_events WHERE id NOT IN (
    SELECT MIN(id) FROM stats_events GROUP BY app_id, device_id, at, action, version_name);
CREATE UNIQUE INDEX stats_events_once ON stats_events (app_id, device_id, at, action, version_name);
CREATE INDEX stats_by_received ON stats_events (received_at);

-- Events per China Standard Time day (UTC+8) and dimension, kept when raw events expire.
CREATE TABLE stats_daily (
    app_id          TEXT NOT NULL,
    day             INTEGER NOT NULL,   -- days since 1970-01-01 in UTC+8
    version_name    TEXT NOT NULL,
    action          TEXT NOT NULL,
    platform        TEXT NOT NULL,
    version_os      TEXT NOT NULL,
    plugin_version  TEXT NOT NULL,
    channel         TEXT NOT NULL,
    events          INTEGER NOT NULL,
    PRIMARY KEY (app_id, day, version_name, action, platform, version_os, plugin_version, channel)
);

-- One row per device and bundle it tried or ran: the version transitions. `installed_at` is the
-- first time the device ran the bundle (a `set` event or a check-in reporting it);
-- `started_at` the first download event; `failures` the failure events before it ran.
CREATE TABLE installs (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    started_at    INTEGER,
    installed_at  INTEGER,
    failures      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, version_name, device_id)
);

-- Counters over `installs`, kept by the triggers below in the same transaction.
CREATE TABLE release_totals (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    attempted     INTEGER NOT NULL DEFAULT 0,
    installed     INTEGER NOT NULL DEFAULT 0,
    first_try     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, version_name)
);
-- Devices that first ran a bundle, per 10 minutes (`bucket` = installed_at / 600000).
CREATE TABLE adoption (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    bucket        INTEGER NOT NULL,
    devices       INTEGER NOT NULL,
    PRIMARY KEY (app_id, version_name, bucket)
);
-- Install durations (first download event → ran), as a histogram: `bucket` is the duration in
-- seconds below a minute, 60 + minutes below an hour, 120 + hours (at most 168) above.
CREATE TABLE install_durations (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    bucket        INTEGER NOT NULL,
    devices       INTEGER NOT NULL,
    PRIMARY KEY (app_id, version_name, bucket)
);

CREATE TRIGGER installs_counted AFTER INSERT ON installs
BEGIN
    INSERT INTO release_totals (app_id, version_name, attempted, installed, first_try)
    VALUES (NEW.app_id, NEW.version_name, 1,
            NEW.installed_at IS NOT NULL, NEW.installed_at IS NOT NULL AND NEW.failures = 0)
    ON CONFLICT (app_id, version_name) DO UPDATE SET
        attempted = attempted + 1,
        installed = installed + (NEW.installed_at IS NOT NULL),
        first_try = first_try + (NEW.installed_at IS NOT NULL AND NEW.failures = 0);
    INSERT INTO adoption (app_id, version_name, bucket, devices)
    SELECT NEW.app_id, NEW.version_name, NEW.installed_at / 600000, 1
    WHERE NEW.installed_at IS NOT NULL
    ON CONFLICT (app_id, version_name, bucket) DO UPDATE SET devices = devices + 1;
    INSERT INTO install_durations (app_id, version_name, bucket, devices)
    SELECT NEW.app_id, NEW.version_name,
        CASE
            WHEN d < 60000 THEN d / 1000
            WHEN d < 3600000 THEN 60 + d / 60000
            ELSE 120 + MIN(d / 3600000, 168)
        END, 1
    FROM (SELECT NEW.installed_at - NEW.started_at AS d)
    WHERE NEW.installed_at IS NOT NULL AND NEW.started_at IS NOT NULL
        AND NEW.started_at <= NEW.installed_at
    ON CONFLICT (app_id, version_name, bucket) DO UPDATE SET devices = devices + 1;
END;

CREATE TRIGGER installs_ran AFTER UPDATE OF installed_at ON installs
WHEN OLD.installed_at IS NULL AND NEW.installed_at IS NOT NULL
BEGIN
    UPDATE release_totals SET installed = installed + 1, first_try = first_try + (NEW.failures = 0)
    WHERE app_id = NEW.app_id AND version_name = NEW.version_name;
    INSERT INTO adoption (app_id, version_name, bucket, devices)
    VALUES (NEW.app_id, NEW.version_name, NEW.installed_at / 600000, 1)
    ON CONFLICT (app_id, version_name, bucket) DO UPDATE SET devices = devices + 1;
    INSERT INTO install_durations (app_id, version_name, bucket, devices)
    SELECT NEW.app_id, NEW.version_name,
        CASE
            WHEN d < 60000 THEN d / 1000
            WHEN d < 3600000 THEN 60 + d / 60000
            ELSE 120 + MIN(d / 3600000, 168)
        END, 1
    FROM (SELECT NEW.installed_at - NEW.started_at AS d)
    WHERE NEW.started_at IS NOT NULL AND NEW.started_at <= NEW.installed_at
    ON CONFLICT (app_id, version_name, bucket) DO UPDATE SET devices = devices + 1;
END;

-- A device seen running a bundle (check-in) has installed it, with or without stats.
CREATE TRIGGER devices_ran_new AFTER INSERT ON devices
BEGIN
    INSERT INTO installs (app_id, version_name, device_id, installed_at)
    VALUES (NEW.app_id, NEW.version_name, NEW.device_id, NEW.last_seen)
    ON CONFLICT (app_id, version_name, device_id) DO UPDATE SET installed_at = excluded.installed_at
    WHERE installs.installed_at IS NULL;
END;
CREATE TRIGGER devices_ran_changed AFTER UPDATE OF version_name ON devices
WHEN OLD.version_name <> NEW.version_name
BEGIN
    INSERT INTO installs (app_id, version_name, device_id, installed_at)
    VALUES (NEW.app_id, NEW.version_name, NEW.device_id, NEW.last_seen)
    ON CONFLICT (app_id, version_name, device_id) DO UPDATE SET installed_at = excluded.installed_at
    WHERE installs.installed_at IS NULL;
END;

-- Version distribution of active devices without reading the rows.
CREATE INDEX devices_by_version ON devices (app_id, version_name, last_seen);

-- Bytes Landfall streamed from /blobs/ per UTC+8 day: whole bundle zips (`full`) and per-file
-- delta downloads (`delta`). Downloads a CDN or presigned bucket URL serves are not seen here.
CREATE TABLE downloads_daily (
    app_id    TEXT NOT NULL,
    day       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    requests  INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    PRIMARY KEY (app_id, day, kind)
);

-- What was stored before this version: every device runs its current bundle (the triggers above
-- count it), and the raw events kept so far are rolled up (their channel was not recorded).
INSERT INTO installs (app_id, version_name, device_id, installed_at)
SELECT app_id, version_name, device_id, last_seen FROM devices;
INSERT INTO stats_daily (app_id, day, version_name, action, platform, version_os, plugin_version,
                         channel, events)
SELECT app_id, day, v, action, platform, version_os, plugin_version, '', COUNT(*)
FROM (SELECT app_id, action, platform, version_os, plugin_version,
             CASE WHEN instr(version_name, ':') > 0 THEN substr(version_name, 1, instr(version_name, ':') - 1) ELSE version_name END AS v,
             ((at + 28800000) - ((at + 28800000) % 86400000 + 86400000) % 86400000) / 86400000 AS day
      FROM stats_events) e
GROUP BY app_id, day, v, action, platform, version_os, plugin_version;

-- Landfall PostgreSQL schema v4 (analytics; SQLite v7). Never edit a released migration.
-- Same tables and rules as the SQLite migration 0007: see its comments.

ALTER TABLE stats_events ADD COLUMN version_os TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_events ADD COLUMN custom_id TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_events ADD COLUMN is_emulator BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE stats_events ADD COLUMN is_prod BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE stats_events ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_events ADD COLUMN channel TEXT NOT NULL DEFAULT '';

DELETE FROM stats_events WHERE id NOT IN (
    SELECT MIN(id) FROM stats_events GROUP BY app_id, device_id, at, action, version_name);
CREATE UNIQUE INDEX stats_events_once ON stats_events (app_id, device_id, at, action, version_name);
CREATE INDEX stats_by_received ON stats_events (received_at);

CREATE TABLE stats_daily (
    app_id          TEXT NOT NULL,
    day             BIGINT NOT NULL,
    version_name    TEXT NOT NULL,
    action          TEXT NOT NULL,
    platform        TEXT NOT NULL,
    version_os      TEXT NOT NULL,
    plugin_version  TEXT NOT NULL,
    channel         TEXT NOT NULL,
    events          BIGINT NOT NULL,
    PRIMARY KEY (app_id, day, version_name, action, platform, version_os, plugin_version, channel)
);

CREATE TABLE installs (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    started_at    BIGINT,
    installed_at  BIGINT,
    failures      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, version_name, device_id)
);

CREATE TABLE release_totals (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    attempted     BIGINT NOT NULL DEFAULT 0,
    installed     BIGINT NOT NULL DEFAULT 0,
    first_try     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, version_name)
);
CREATE TABLE adoption (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    bucket        BIGINT NOT NULL,
    devices       BIGINT NOT NULL,
    PRIMARY KEY (app_id, version_name, bucket)
);
CREATE TABLE install_durations (
    app_id        TEXT NOT NULL,
    version_name  TEXT NOT NULL,
    bucket        BIGINT NOT NULL,
    devices       BIGINT NOT NULL,
    PRIMARY KEY (app_id, version_name, bucket)
);

CREATE FUNCTION landfall_install_ran(r installs) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d BIGINT;
BEGIN
    INSERT INTO adoption (app_id, version_name, bucket, devices)
    VALUES (r.app_id, r.version_name, r.installed_at / 600000, 1)
    ON CONFLICT (app_id, version_name, bucket) DO UPDATE SET devices = adoption.devices + 1;
    IF r.started_at IS NOT NULL AND r.started_at <= r.installed_at THEN
        d := r.installed_at - r.started_at;
        INSERT INTO install_durations (app_id, version_name, bucket, devices)
        VALUES (r.app_id, r.version_name,
            CASE
                WHEN d < 60000 THEN d / 1000
                WHEN d < 3600000 THEN 60 + d / 60000
                ELSE 120 + LEAST(d / 3600000, 168)
            END, 1)
        ON CONFLICT (app_id, version_name, bucket) DO UPDATE SET devices = install_durations.devices + 1;
    END IF;
END $$;

CREATE FUNCTION landfall_installs_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO release_totals (app_id, version_name, attempted, installed, first_try)
    VALUES (NEW.app_id, NEW.version_name, 1,
            (NEW.installed_at IS NOT NULL)::int, (NEW.installed_at IS NOT NULL AND NEW.failures = 0)::int)
    ON CONFLICT (app_id, version_name) DO UPDATE SET
        attempted = release_totals.attempted + 1,
        installed = release_totals.installed + (NEW.installed_at IS NOT NULL)::int,
        first_try = release_totals.first_try + (NEW.installed_at IS NOT NULL AND NEW.failures = 0)::int;
    IF NEW.installed_at IS NOT NULL THEN
        PERFORM landfall_install_ran(NEW);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER installs_counted AFTER INSERT ON installs
    FOR EACH ROW EXECUTE FUNCTION landfall_installs_counted();

CREATE FUNCTION landfall_installs_ran() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE release_totals SET installed = installed + 1, first_try = first_try + (NEW.failures = 0)::int
    WHERE app_id = NEW.app_id AND version_name = NEW.version_name;
    PERFORM landfall_install_ran(NEW);
    RETURN NULL;
END $$;
CREATE TRIGGER installs_ran AFTER UPDATE OF installed_at ON installs
    FOR EACH ROW WHEN (OLD.installed_at IS NULL AND NEW.installed_at IS NOT NULL)
    EXECUTE FUNCTION landfall_installs_ran();

CREATE FUNCTION landfall_devices_ran() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO installs (app_id, version_name, device_id, installed_at)
    VALUES (NEW.app_id, NEW.version_name, NEW.device_id, NEW.last_seen)
    ON CONFLICT (app_id, version_name, device_id) DO UPDATE SET installed_at = excluded.installed_at
    WHERE installs.installed_at IS NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER devices_ran_new AFTER INSERT ON devices
    FOR EACH ROW EXECUTE FUNCTION landfall_devices_ran();
CREATE TRIGGER devices_ran_changed AFTER UPDATE OF version_name ON devices
    FOR EACH ROW WHEN (OLD.version_name <> NEW.version_name)
    EXECUTE FUNCTION landfall_devices_ran();

CREATE INDEX devices_by_version ON devices (app_id, version_name, last_seen);

-- Bytes Landfall streamed from /blobs/ per UTC+8 day: whole bundle zips (`full`) and per-file
-- delta downloads (`delta`). Downloads a CDN or presigned bucket URL serves are not seen here.
CREATE TABLE downloads_daily (
    app_id    TEXT NOT NULL,
    day       BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    requests  BIGINT NOT NULL,
    bytes     BIGINT NOT NULL,
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
             split_part(version_name, ':', 1) AS v,
             ((at + 28800000) - ((at + 28800000) % 86400000 + 86400000) % 86400000) / 86400000 AS day
      FROM stats_events) e
GROUP BY app_id, day, v, action, platform, version_os, plugin_version;

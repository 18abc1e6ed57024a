-- Landfall PostgreSQL schema v6 (the dashboard at a million devices; SQLite v9). Never edit a
-- released migration. Same tables and rules as the SQLite migration 0009: see its comments.

CREATE TABLE device_hours (
    app_id        TEXT NOT NULL,
    hour          BIGINT NOT NULL,
    version_name  TEXT NOT NULL,
    channel       TEXT NOT NULL,
    devices       BIGINT NOT NULL,
    PRIMARY KEY (app_id, hour, version_name, channel)
);

INSERT INTO device_hours (app_id, hour, version_name, channel, devices)
SELECT app_id, last_seen / 3600000, version_name, channel, COUNT(*)
FROM devices GROUP BY app_id, last_seen / 3600000, version_name, channel;

CREATE FUNCTION landfall_device_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE device_hours SET devices = devices - 1
        WHERE app_id = OLD.app_id AND hour = OLD.last_seen / 3600000
            AND version_name = OLD.version_name AND channel = OLD.channel;
        DELETE FROM device_hours
        WHERE app_id = OLD.app_id AND hour = OLD.last_seen / 3600000
            AND version_name = OLD.version_name AND channel = OLD.channel AND devices = 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO device_hours (app_id, hour, version_name, channel, devices)
        VALUES (NEW.app_id, NEW.last_seen / 3600000, NEW.version_name, NEW.channel, 1)
        ON CONFLICT (app_id, hour, version_name, channel)
        DO UPDATE SET devices = device_hours.devices + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER device_hours_new AFTER INSERT ON devices
    FOR EACH ROW EXECUTE FUNCTION landfall_device_hours();
CREATE TRIGGER device_hours_moved AFTER UPDATE OF last_seen, version_name, channel ON devices
    FOR EACH ROW WHEN (OLD.last_seen / 3600000 <> NEW.last_seen / 3600000
        OR OLD.version_name <> NEW.version_name OR OLD.channel <> NEW.channel)
    EXECUTE FUNCTION landfall_device_hours();
CREATE TRIGGER device_hours_gone AFTER DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION landfall_device_hours();

CREATE INDEX devices_by_channel ON devices (app_id, channel, version_name);

-- Device search (a substring of the device id or the custom id): the ids of every device in a
-- narrow table written only when a device appears or changes its custom id (a check-in that only
-- moves last_seen never touches it), with trigram indexes (pg_trgm) when the extension can be
-- created here. An index, not data: `landfall migrate db` does not copy it (copy::ENGINE_TABLES);
-- the devices it copies rebuild it. Without pg_trgm a search reads this table, not every device.
CREATE TABLE device_search (
    app_id     TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    custom_id  TEXT NOT NULL,
    PRIMARY KEY (app_id, device_id)
);
INSERT INTO device_search (app_id, device_id, custom_id)
SELECT app_id, device_id, custom_id FROM devices;

CREATE FUNCTION landfall_device_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM device_search WHERE app_id = OLD.app_id AND device_id = OLD.device_id;
    ELSE
        INSERT INTO device_search (app_id, device_id, custom_id)
        VALUES (NEW.app_id, NEW.device_id, NEW.custom_id)
        ON CONFLICT (app_id, device_id) DO UPDATE SET custom_id = excluded.custom_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER device_search_new AFTER INSERT ON devices
    FOR EACH ROW EXECUTE FUNCTION landfall_device_search();
CREATE TRIGGER device_search_changed AFTER UPDATE OF custom_id ON devices
    FOR EACH ROW WHEN (OLD.custom_id <> NEW.custom_id) EXECUTE FUNCTION landfall_device_search();
CREATE TRIGGER device_search_gone AFTER DELETE ON devices
    FOR EACH ROW EXECUTE FUNCTION landfall_device_search();

-- pg_trgm is a trusted extension (PostgreSQL 13+: the database owner may create it); where it is
-- missing or not allowed, searches still work, reading `device_search` in full.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%): device search reads every device id', SQLERRM;
END $$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX device_search_device_id ON device_search USING gin (device_id gin_trgm_ops)';
        EXECUTE 'CREATE INDEX device_search_custom_id ON device_search USING gin (custom_id gin_trgm_ops)';
    END IF;
END $$;

-- Landfall schema v9 (the dashboard at a million devices). Never edit a released migration.

-- Devices per UTC hour of their last check-in, bundle and channel, kept by the triggers below in
-- the same transaction as the device rows. "Devices seen since T" is the sum over the hours after
-- T's hour plus the devices seen within T's own hour (an hour of check-ins at most), instead of a
-- pass over every device of the app. A row that reaches 0 is deleted: the table always equals
-- that GROUP BY over `devices` (what `landfall migrate db` verifies after rebuilding it).
CREATE TABLE device_hours (
    app_id        TEXT NOT NULL,
    hour          INTEGER NOT NULL,   -- last_seen / 3600000
    version_name  TEXT NOT NULL,
    channel       TEXT NOT NULL,
    devices       INTEGER NOT NULL,
    PRIMARY KEY (app_id, hour, version_name, channel)
);

INSERT INTO device_hours (app_id, hour, version_name, channel, devices)
SELECT app_id, last_seen / 3600000, version_name, channel, COUNT(*)
FROM devices GROUP BY app_id, last_seen / 3600000, version_name, channel;

CREATE TRIGGER device_hours_new AFTER INSERT ON devices
BEGIN
    INSERT INTO device_hours (app_id, hour, version_name, channel, devices)
    VALUES (NEW.app_id, NEW.last_seen / 3600000, NEW.version_name, NEW.channel, 1)
    ON CONFLICT (app_id, hour, version_name, channel) DO UPDATE SET devices = devices + 1;
END;
-- A check-in within the same hour, bundle and channel (the common case) changes nothing here.
CREATE TRIGGER device_hours_moved AFTER UPDATE OF last_seen, version_name, channel ON devices
WHEN OLD.last_seen / 3600000 <> NEW.last_seen / 3600000 OR OLD.version_name <> NEW.version_name
    OR OLD.channel <> NEW.channel
BEGIN
    UPDATE device_hours SET devices = devices - 1
    WHERE app_id = OLD.app_id AND hour = OLD.last_seen / 3600000
        AND version_name = OLD.version_name AND channel = OLD.channel;
    DELETE FROM device_hours
    WHERE app_id = OLD.app_id AND hour = OLD.last_seen / 3600000
        AND version_name = OLD.version_name AND channel = OLD.channel AND devices = 0;
    INSERT INTO device_hours (app_id, hour, version_name, channel, devices)
    VALUES (NEW.app_id, NEW.last_seen / 3600000, NEW.version_name, NEW.channel, 1)
    ON CONFLICT (app_id, hour, version_name, channel) DO UPDATE SET devices = devices + 1;
END;
CREATE TRIGGER device_hours_gone AFTER DELETE ON devices
BEGIN
    UPDATE device_hours SET devices = devices - 1
    WHERE app_id = OLD.app_id AND hour = OLD.last_seen / 3600000
        AND version_name = OLD.version_name AND channel = OLD.channel;
    DELETE FROM device_hours
    WHERE app_id = OLD.app_id AND hour = OLD.last_seen / 3600000
        AND version_name = OLD.version_name AND channel = OLD.channel AND devices = 0;
END;

-- Devices of a channel (and bundle): a rollout's devices on its bundle, the device list's filters.
CREATE INDEX devices_by_channel ON devices (app_id, channel, version_name);

-- Device search (a substring of the device id or the custom id, `GET /apps/{app}/devices?search=`):
-- a trigram full-text index over both, so a search reads the devices that contain the text instead
-- of every device of the app. Kept by triggers on `devices`: a new device, a changed custom id (a
-- check-in that only moves last_seen never touches it). An index, not data: `landfall migrate db`
-- does not copy it (see copy::ENGINE_TABLES); the devices it copies rebuild it. Its own rowids (not
-- the devices'), so a VACUUM cannot misalign them; a device's entry is found by its id.
CREATE VIRTUAL TABLE device_search USING fts5(
    app_id UNINDEXED, device_id, custom_id, tokenize = 'trigram');
INSERT INTO device_search (app_id, device_id, custom_id)
SELECT app_id, device_id, custom_id FROM devices;

CREATE TRIGGER device_search_new AFTER INSERT ON devices
BEGIN
    INSERT INTO device_search (app_id, device_id, custom_id)
    VALUES (NEW.app_id, NEW.device_id, NEW.custom_id);
END;
-- Ids of 3 characters or more are found through the index (device ids are UUIDs); shorter ones
-- (tests) by a scan.
CREATE TRIGGER device_search_changed AFTER UPDATE OF custom_id ON devices
WHEN OLD.custom_id <> NEW.custom_id
BEGIN
    UPDATE device_search SET custom_id = NEW.custom_id
    WHERE device_search MATCH 'device_id : "' || replace(NEW.device_id, '"', '""') || '"'
        AND length(NEW.device_id) >= 3 AND app_id = NEW.app_id AND device_id = NEW.device_id;
    UPDATE device_search SET custom_id = NEW.custom_id
    WHERE length(NEW.device_id) < 3 AND app_id = NEW.app_id AND device_id = NEW.device_id;
END;
CREATE TRIGGER device_search_gone AFTER DELETE ON devices
BEGIN
    DELETE FROM device_search
    WHERE device_search MATCH 'device_id : "' || replace(OLD.device_id, '"', '""') || '"'
        AND length(OLD.device_id) >= 3 AND app_id = OLD.app_id AND device_id = OLD.device_id;
    DELETE FROM device_search
    WHERE length(OLD.device_id) < 3 AND app_id = OLD.app_id AND device_id = OLD.device_id;
END;

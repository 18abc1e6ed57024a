-- Landfall schema v4. Never edit a released migration.

-- One stored channel assignment per device, whoever made it: an operator's override
-- (`landfall device override`) or the device's own choice through POST /channel_self (plugins
-- older than 5.34/6.34/7.34 keep no channel locally). The latest write wins. `set_by` is the
-- operator's actor name, or `device` for a device's own choice; `created_at` is when it was set.
ALTER TABLE device_overrides ADD COLUMN set_by TEXT NOT NULL DEFAULT 'operator';

-- Per-app switches Capgo has: bundle link/comment reach devices only when exposed (default off);
-- the custom_id devices send is stored unless turned off (default on).
ALTER TABLE apps ADD COLUMN expose_metadata INTEGER NOT NULL DEFAULT 0;
ALTER TABLE apps ADD COLUMN allow_device_custom_id INTEGER NOT NULL DEFAULT 1;

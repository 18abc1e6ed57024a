-- Landfall schema v6. Never edit a released migration.

-- Per-app geo split of download links: devices in mainland China (by client address) get
-- <download_base_mainland>/<sha256> (e.g. the app's ICP-filed CDN), others
-- <download_base_global>/<sha256>. NULL: the server's setting.
ALTER TABLE apps ADD COLUMN download_base_mainland TEXT;
ALTER TABLE apps ADD COLUMN download_base_global TEXT;

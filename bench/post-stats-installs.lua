-- POST /stats batches the way a fleet reports installs: every request is one device's story of one
-- release, 4 events with the device's own timestamps (so none is a retry the server drops):
--   80 %  download_zip_start, download_complete, set, app_moved_to_foreground
--   15 %  download_zip_start, <failure>, set, app_moved_to_foreground   (installed at the 2nd try)
--    5 %  download_zip_start, <failure>, <failure>, app_crash           (never installed)
-- cycling over the 17 failure actions. Requests rotate over APPS apps (com.example.stats0…) and
-- NDEV devices per app; each pass over the devices is the next release (1.1.0, 1.2.0, …).
-- bench/analytics_data.py `request_events` builds exactly the same events for request k (the
-- raw-insert baseline); keep the two in step.
--
--   APPS=4 NDEV=50000 T_BASE=<epoch ms> wrk -t1 -c64 -d20s -s post-stats-installs.lua http://127.0.0.1:PORT/stats
-- RATE_DELAY_MS=n: each connection waits n ms between requests (a throttled background load).
-- T_BASE and PASS0 (see below) make the events of another run distinct from this one's.
local APPS = tonumber(os.getenv("APPS") or "4")
local NDEV = tonumber(os.getenv("NDEV") or "50000")
local T_BASE = tonumber(os.getenv("T_BASE") or "1700000000000")
local DELAY = tonumber(os.getenv("RATE_DELAY_MS") or "0")
-- PASS0=n: start at release 1.(n+1).0 (a later run then sends new installs, not retries).
local PASS0 = tonumber(os.getenv("PASS0") or "0")

local FAILURES = {
  "download_fail", "finish_download_fail", "update_fail", "set_fail", "checksum_fail",
  "checksum_required", "decrypt_fail", "unzip_fail", "windows_path_fail", "canonical_path_fail",
  "directory_path_fail", "download_manifest_file_fail", "download_manifest_checksum_fail",
  "download_manifest_brotli_fail", "manifest_path_fail", "low_mem_fail", "insufficient_disk_space",
}
local PLATFORMS = { "android", "android", "android", "android", "android", "android", "ios", "ios", "ios", "electron" }
local OS = {
  android = { "11", "12", "13", "14", "15" },
  ios = { "15.8", "16.7", "17.5", "18.1", "18.2" },
  electron = { "win32-10", "win32-11", "darwin-23", "darwin-24", "linux-6" },
}
local PLUGINS = { "5.10.1", "6.14.30", "7.21.0", "8.51.14" }

-- The 20-bit hash of analytics_data.py (exact in doubles for these magnitudes).
local function mix(x, salt)
  local v = ((x + salt) * 2654435761) % 4294967296
  return math.floor(v / 4096)
end

-- analytics_data.py `device_uuid`: a v4-shaped id with random-looking digits, unique per dv.
local function uuid(dv)
  return string.format("%08x-%04x-4%03x-%04x-%012x",
    (dv * 2246822519) % 4294967296, mix(dv, 23) % 65536, mix(dv, 24) % 4096,
    32768 + mix(dv, 25) % 16384, (dv * 2654435761) % 281474976710656)
end

local headers = { ["Content-Type"] = "application/json" }
local k = 0
local devices = {}

local function device(dv)
  local d = devices[dv]
  if d then return d end
  local plat = PLATFORMS[mix(dv, 1) % 10 + 1]
  d = string.format(
    '{"platform":"%s","device_id":"%s","app_id":"%%s","custom_id":"",' ..
    '"version_build":"1.0.0","version_code":"10","version_os":"%s","version_name":"%%s",' ..
    '"plugin_version":"%s","is_emulator":false,"is_prod":true,"old_version_name":"%%s",' ..
    '"action":"%%s","timestamp":%%d}',
    plat, uuid(dv), OS[plat][mix(dv, 2) % 5 + 1], PLUGINS[mix(dv, 3) % 4 + 1])
  devices[dv] = d
  return d
end

function request()
  k = k + 1
  local a = (k - 1) % APPS
  local q = math.floor((k - 1) / APPS)
  local dv = q % NDEV
  local p = math.floor(q / NDEV) + PASS0
  local app = "com.example.stats" .. a
  local version = "1." .. (p + 1) .. ".0"
  local old = p == 0 and "builtin" or ("1." .. p .. ".0")
  local t = T_BASE + q * 10
  local dl = 5000 + (q % 60) * 1000
  local o = q % 20
  local fa = math.floor(q / 20) % 17
  local acts
  if o < 16 then
    acts = { "download_zip_start", "download_complete", "set", "app_moved_to_foreground" }
  elseif o < 19 then
    acts = { "download_zip_start", FAILURES[fa + 1], "set", "app_moved_to_foreground" }
  else
    acts = { "download_zip_start", FAILURES[fa + 1], FAILURES[(fa + 1) % 17 + 1], "app_crash" }
  end
  local ats = { t, t + dl, t + dl + 1000, t + dl + 2000 }
  local tpl = device(dv)
  local ev = {}
  for j = 1, 4 do
    ev[j] = string.format(tpl, app, version, old, acts[j], ats[j])
  end
  return wrk.format("POST", wrk.path, headers, "[" .. table.concat(ev, ",") .. "]")
end

if DELAY > 0 then
  function delay() return DELAY end
end

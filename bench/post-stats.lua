-- POST /stats batches (2 events each) from 50,000 rotating devices, like a fleet reporting
-- installs. Usage: wrk -t1 -c8 -d20s -s post-stats.lua http://127.0.0.1:PORT/stats
-- APP_ID selects the app (default com.example.capgovector).
local N = 50000
local reqs = {}
local i = 0

function init(args)
  local app = os.getenv("APP_ID") or "com.example.capgovector"
  local headers = { ["Content-Type"] = "application/json" }
  for k = 1, N do
    local id = string.format("%08x-0000-4000-8000-%012x", k, k)
    local ev = '{"platform":"android","device_id":"' .. id .. '","app_id":"' .. app ..
      '","version_build":"1.0.0","version_name":"1.0.1","plugin_version":"8.51.14","is_emulator":false,' ..
      '"is_prod":true,"action":"set","old_version_name":"builtin"}'
    reqs[k] = wrk.format("POST", wrk.path, headers, "[" .. ev .. "," .. ev .. "]")
  end
end

function request()
  i = i % N + 1
  return reqs[i]
end

-- Copy of /work/shared/bench/post-updates-rotate.lua that spreads the 10,000 distinct devices over
-- three channels through the plugin's `defaultChannel`: k % 3 == 0 → "" (the public channel,
-- "production"), 1 → "beta", 2 → "staging". All three serve 1.0.1, so CHECK_BODY still applies.
-- Same device ids, same seed, same pre-formatted requests (one table index per request).
-- Usage: wrk -t1 -c256 -d15s --latency -s post-updates-3channels.lua http://127.0.0.1:PORT/updates
-- CHECK_BODY=1 counts replies that do not name version 1.0.1.
local N = 10000
local path = "/updates"
local reqs = {}
local i = 0
local channels = { [0] = "", [1] = "beta", [2] = "staging" }

local threads = {}
function setup(thread) table.insert(threads, thread) end

function init(args)
  path = wrk.path
  math.randomseed(20261125)
  local headers = { ["Content-Type"] = "application/json" }
  for k = 1, N do
    local id = string.format("%08x-%04x-4%03x-%04x-%04x%08x",
      math.random(0, 0x7fffffff), math.random(0, 0xffff), math.random(0, 0xfff),
      0x8000 + math.random(0, 0x3fff), math.random(0, 0xffff), k)
    local body = '{"platform":"android","device_id":"' .. id .. '","app_id":"com.example.capgovector","custom_id":"","version_build":"1.0.0","version_code":"10","version_os":"14","version_name":"builtin","plugin_version":"8.51.14","is_emulator":false,"is_prod":true,"install_source":"google_play","defaultChannel":"' .. channels[k % 3] .. '"}'
    reqs[k] = wrk.format("POST", path, headers, body)
  end
end

function request()
  i = i % N + 1
  return reqs[i]
end

if os.getenv("CHECK_BODY") == "1" then
  ok, bad = 0, 0
  function response(status, headers, body)
    if status == 200 and string.find(body, '"version":"1.0.1"', 1, true) then ok = ok + 1 else bad = bad + 1 end
  end
  function done(summary, latency, requests)
    local o, b = 0, 0
    for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
    io.write(string.format("body check: %d replies name 1.0.1, %d do not\n", o, b))
  end
end

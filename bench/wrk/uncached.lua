-- wrk script: like urls.lua, but every request gets its own `to=` time (RFC 3339, one second
-- apart, years in the future), so a server that caches tiles by their filter never finds one in
-- its cache and builds every tile; the filter itself keeps everything (all reports are older).
--
--   wrk -t2 -c8 -d10s --latency -s bench/wrk/uncached.lua http://127.0.0.1:8787 -- urls.txt
--
-- List lines must already carry a query string (`...mvt?status=all`). Prints the same RESULT
-- line as urls.lua.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local function load_paths(file)
   local paths = {}
   local f = assert(io.open(file, "r"), "cannot open " .. tostring(file))
   for line in f:lines() do
      line = line:gsub("%s+$", "")
      if line ~= "" then
         table.insert(paths, (line:gsub("^%a[%w+.-]*://[^/]+", "")))
      end
   end
   f:close()
   assert(#paths > 0, "no URLs in " .. file)
   return paths
end

function init(args)
   paths = load_paths(args[1])
   counter = math.floor(#paths * (((id or 0) * 0.6180339887) % 1))
   serial = 0
   -- 2030-01-01T00:00:00Z, plus a per-thread block of 10^8 seconds
   base_time = 1893456000 + (id or 0) * 100000000
   local enc = os.getenv("ACCEPT_ENCODING")
   if enc and enc ~= "" then
      wrk.headers["Accept-Encoding"] = enc
   end
end

function request()
   counter = counter + 1
   serial = serial + 1
   local path = paths[(counter % #paths) + 1]
   local sep = path:find("?", 1, true) and "&" or "?"
   return wrk.format("GET", path .. sep .. "to=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", base_time + serial))
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      'RESULT {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,' ..
      '"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,"bytes":%d,"non2xx":%d,"errors":%d,"timeouts":%d}\n',
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, latency.mean / 1000, summary.bytes, e.status,
      e.connect + e.read + e.write, e.timeout))
end

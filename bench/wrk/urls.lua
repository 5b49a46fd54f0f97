-- wrk script: GET every URL of a list file in turn (each thread starts at its own offset) and
-- print one machine-readable RESULT line with rate and latency percentiles.
--
--   wrk -t2 -c8 -d20s --timeout 30s -s bench/wrk/urls.lua http://127.0.0.1:8787 -- urls.txt
--
-- Lines may be full URLs (scheme and host are stripped; wrk talks to the host given on its
-- command line) or paths. Set ACCEPT_ENCODING=gzip to ask for compressed responses, as
-- browsers do.

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
         local path = line:gsub("^%a[%w+.-]*://[^/]+", "")
         table.insert(paths, path)
      end
   end
   f:close()
   assert(#paths > 0, "no URLs in " .. file)
   return paths
end

function init(args)
   paths = load_paths(args[1])
   -- spread the threads over the list so they do not request the same tiles in lockstep
   -- golden-ratio offsets keep any number of threads far apart in the list
   counter = math.floor(#paths * (((id or 0) * 0.6180339887) % 1))
   local enc = os.getenv("ACCEPT_ENCODING")
   if enc and enc ~= "" then
      wrk.headers["Accept-Encoding"] = enc
   end
end

function request()
   counter = counter + 1
   return wrk.format("GET", paths[(counter % #paths) + 1])
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

-- wrk script: POST new reports (GeoJSON Features) at points inside Kraków.
--
--   wrk -t2 -c8 -d20s -s bench/wrk/submit.lua http://127.0.0.1:8787 -- points.tsv
--
-- points.tsv comes from `zglos-bench points` (lon<TAB>lat<TAB>category, clustered like real
-- reports, so some submissions land on an open report of the same category and are deduplicated);
-- pgbench reads the same file through the bench_points table. Each thread starts at its own
-- offset. A RESULT line as in urls.lua; `non2xx` counts responses with status >= 400.

local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

local descriptions = {
   "Zgłoszenie testowe z obciążenia",
   "Problem widoczny od rana, proszę o sprawdzenie",
   "Dotyczy odcinka przy skrzyżowaniu",
   "Load test report",
}

function init(args)
   points = {}
   local f = assert(io.open(args[1], "r"), "cannot open " .. tostring(args[1]))
   for line in f:lines() do
      local lon, lat, cat = line:match("^([%d.-]+)\t([%d.-]+)\t(%S+)")
      if lon then
         table.insert(points, { lon, lat, cat })
      end
   end
   f:close()
   assert(#points > 0, "no points in " .. args[1])
   counter = math.floor(#points * (((id or 0) * 0.6180339887) % 1))
   path = os.getenv("SUBMIT_PATH") or "/api/v1/reports"
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   counter = counter + 1
   local p = points[(counter % #points) + 1]
   local body = string.format(
      '{"type":"Feature","geometry":{"type":"Point","coordinates":[%s,%s]},' ..
      '"properties":{"category":"%s","description":"%s"}}',
      p[1], p[2], p[3], descriptions[(counter % #descriptions) + 1])
   return wrk.format("POST", path, nil, body)
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

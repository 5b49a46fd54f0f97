-- wrk script: POST new reports (GeoJSON Features) at points inside Kraków.
--
--   wrk -t2 -c8 -d20s -s bench/wrk/submit.lua http://127.0.0.1:8787 -- points.tsv
--
-- points.tsv comes from `zglos-bench points` (lon<TAB>lat<TAB>category, clustered like real
-- reports, so some submissions land on an open report of the same category and are deduplicated);
-- pgbench reads the same file through the bench_points table. Each thread starts at its own
-- offset. A RESULT line as in urls.lua; `non2xx` counts responses with status >= 400.

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
setup = common.setup
done = common.done

local descriptions = {
   "Zgłoszenie testowe z obciążenia",
   "Problem widoczny od rana, proszę o sprawdzenie",
   "Dotyczy odcinka przy skrzyżowaniu",
   "Load test report",
}

function init(args)
   points = common.read_list(args[1], function(line)
      local lon, lat, cat = line:match("^([%d.-]+)\t([%d.-]+)\t(%S+)")
      return lon and { lon, lat, cat }
   end)
   counter = common.start(#points)
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

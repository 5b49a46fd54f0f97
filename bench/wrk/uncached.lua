-- wrk script: like urls.lua, but every request gets its own `to=` time (RFC 3339, one second
-- apart, years in the future), so a server that caches tiles by their filter never finds one in
-- its cache and builds every tile; the filter itself keeps everything (all reports are older).
--
--   wrk -t2 -c8 -d10s --latency -s bench/wrk/uncached.lua http://127.0.0.1:8787 -- urls.txt
--
-- List lines must already carry a query string (`...mvt?status=all`). Prints the same RESULT
-- line as urls.lua.

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
setup = common.setup
done = common.done

function init(args)
   paths = common.read_paths(args[1])
   counter = common.start(#paths)
   serial = 0
   -- 2030-01-01T00:00:00Z, plus a per-thread block of 10^8 seconds
   base_time = 1893456000 + (id or 0) * 100000000
   common.accept_encoding()
end

function request()
   counter = counter + 1
   serial = serial + 1
   local path = paths[(counter % #paths) + 1]
   local sep = path:find("?", 1, true) and "&" or "?"
   return wrk.format("GET", path .. sep .. "to=" .. os.date("!%Y-%m-%dT%H:%M:%SZ", base_time + serial))
end

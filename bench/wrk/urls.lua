-- wrk script: GET every URL of a list file in turn (each thread starts at its own offset) and
-- print one machine-readable RESULT line with rate and latency percentiles.
--
--   wrk -t2 -c8 -d20s --timeout 30s -s bench/wrk/urls.lua http://127.0.0.1:8787 -- urls.txt
--
-- Lines may be full URLs (scheme and host are stripped; wrk talks to the host given on its
-- command line) or paths. Set ACCEPT_ENCODING=gzip to ask for compressed responses, as
-- browsers do.

local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
setup = common.setup
done = common.done

function init(args)
   paths = common.read_paths(args[1])
   counter = common.start(#paths)
   common.accept_encoding()
end

function request()
   counter = counter + 1
   return wrk.format("GET", paths[(counter % #paths) + 1])
end

-- What the wrk scripts share: thread ids, reading list files, where each thread starts in a list,
-- the Accept-Encoding header, and the machine-readable RESULT line (rate and latency percentiles)
-- that the benchmark scripts collect. Loaded with dofile from the script's own folder.

local common = {}
local next_id = 0

-- wrk's setup(): number the threads, so that each can start at its own place in a list.
function common.setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

-- The non-empty lines of a file, each turned into a value by `parse` (lines it returns nil for
-- are skipped).
function common.read_list(file, parse)
   local items = {}
   local f = assert(io.open(file, "r"), "cannot open " .. tostring(file))
   for line in f:lines() do
      line = line:gsub("%s+$", "")
      if line ~= "" then
         local item = parse(line)
         if item ~= nil then
            table.insert(items, item)
         end
      end
   end
   f:close()
   assert(#items > 0, "nothing usable in " .. file)
   return items
end

-- A URL list: full URLs lose their scheme and host (wrk talks to the host on its command line).
function common.read_paths(file)
   return common.read_list(file, function(line)
      return (line:gsub("^%a[%w+.-]*://[^/]+", ""))
   end)
end

-- This thread's starting index in a list of n: golden-ratio offsets keep any number of threads far
-- apart, so that they do not request the same items in lockstep.
function common.start(n)
   return math.floor(n * (((id or 0) * 0.6180339887) % 1))
end

-- ACCEPT_ENCODING=gzip asks for compressed responses, as browsers do.
function common.accept_encoding()
   local enc = os.getenv("ACCEPT_ENCODING")
   if enc and enc ~= "" then
      wrk.headers["Accept-Encoding"] = enc
   end
end

-- wrk's done(): one RESULT line; `non2xx` counts responses with status >= 400.
function common.done(summary, latency, requests)
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

return common

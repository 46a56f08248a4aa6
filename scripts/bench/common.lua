-- Shared by the scenario scripts of the load benchmark (scripts/bench.sh):
-- numbers each wrk thread, loads the data file the benchmark wrote
-- (BENCH_DATA, a Lua table of tokens and ids), and prints one
-- machine-readable result line at the end:
--
--   BENCH {"requests":…,"rps":…,"p50_us":…,"p99_us":…,"p999_us":…,"errors":…,…}
--
-- A scenario that counts things of its own lists the thread globals to sum
-- in `extra_counters`; they appear in the line under their names.

local threads = {}
local next_id = 0
extra_counters = extra_counters or {}

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function load_data()
  return dofile(os.getenv("BENCH_DATA"))
end

-- The wrk thread's number and how many there are, for slicing shared data.
function thread_slot()
  return thread_id or 0, tonumber(os.getenv("BENCH_THREADS") or "1")
end

-- This thread's share of `list`: every count-th item, so that no two threads
-- use the same worker or token.
function thread_share(list)
  local slot, count = thread_slot()
  local share = {}
  for i, item in ipairs(list) do
    if i % count == slot then table.insert(share, item) end
  end
  return share
end

-- Percent-encodes a query-string value (UTF-8 bytes as %XX).
function urlencode(text)
  return (text:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function done(summary, latency, requests)
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"seconds":%.3f', seconds),
    string.format('"rps":%.1f', summary.requests / seconds),
    string.format('"p50_us":%d', latency:percentile(50)),
    string.format('"p99_us":%d', latency:percentile(99)),
    string.format('"p999_us":%d', latency:percentile(99.9)),
    string.format('"max_us":%d', latency.max),
    string.format('"non2xx":%d', errors.status),
    string.format('"socket_errors":%d', errors.connect + errors.read + errors.write + errors.timeout),
    string.format('"timeouts":%d', errors.timeout),
  }
  for _, name in ipairs(extra_counters) do
    local total = 0
    for _, thread in ipairs(threads) do
      total = total + (tonumber(thread:get(name)) or 0)
    end
    table.insert(fields, string.format('"%s":%d', name, total))
  end
  io.write("BENCH {" .. table.concat(fields, ",") .. "}\n")
end

-- Unpaid-wage report submission (POST /api/v1/wage-reports) with an
-- Idempotency-Key per report, by the benchmark's signed-in workers, in
-- counties across the country. Every tenth request is a client retry: it
-- sends again, with the same key, token and body, a report sent 1,000
-- requests earlier on this thread (long since answered), which must replay
-- the first answer and create nothing. bench.sh then checks in the database
-- that each key made one report and each report has one key.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
extra_counters = { "new_keys", "retries", "status_201" }

new_keys, retries, status_201 = 0, 0, 0
local workers, counties, sent, n, run = {}, {}, {}, 0, ""
local LAG = 1000

function init(args)
  local slot = thread_slot()
  local data = load_data()
  workers = thread_share(data.workers)
  counties = data.counties
  run = os.getenv("BENCH_RUN") .. "-" .. slot
  owed_from, owed_to = data.owed_from, data.owed_to
end

local sectors = { "construction", "manufacturing", "services", "transport", "agriculture", "other" }

local function body(k)
  return string.format(
    '{"employer_name":"某某建筑劳务有限公司%d","project_name":"某小区%d期","work_region_code":"%s",' ..
    '"sector":"%s","amount_owed_fen":%d,"owed_from":"%s","owed_to":"%s","workers_affected":%d,' ..
    '"description":"%d个月工资没有发放，包工头联系不上。"}',
    k % 997, k % 9 + 1, counties[k % #counties + 1], sectors[k % #sectors + 1],
    100000 + (k * 7919) % 900000, owed_from, owed_to, k % 12 + 1, k % 6 + 1)
end

function request()
  n = n + 1
  local entry
  if n % 10 == 0 and n > LAG then
    entry = sent[(n - LAG) % LAG]
    retries = retries + 1
  else
    local worker = workers[n % #workers + 1]
    entry = { token = worker.token, key = run .. "-" .. n, body = body(n) }
    new_keys = new_keys + 1
  end
  sent[n % LAG] = entry
  return wrk.format("POST", "/api/v1/wage-reports", {
    ["Authorization"] = "Bearer " .. entry.token,
    ["Idempotency-Key"] = entry.key,
    ["Content-Type"] = "application/json",
  }, entry.body)
end

function response(status, headers, body)
  if status == 201 then status_201 = status_201 + 1 end
end

-- A signed-in worker's list of applications (GET /api/v1/applications),
-- rotating through the benchmark's signed-in workers, each owning five of
-- the seeded applications.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local workers, n = {}, 0
function init(args)
  local slot, count = thread_slot()
  local data = load_data()
  for i, worker in ipairs(data.workers) do
    if i % count == slot then table.insert(workers, worker) end
  end
end

function request()
  n = n + 1
  local worker = workers[n % #workers + 1]
  return wrk.format("GET", "/api/v1/applications", { ["Authorization"] = "Bearer " .. worker.token })
end

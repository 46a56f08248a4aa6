-- A signed-in worker's list of applications (GET /api/v1/applications),
-- rotating through the benchmark's signed-in workers, each owning five of
-- the seeded applications.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local workers, n = {}, 0
function init(args)
  workers = thread_share(load_data().workers)
end

function request()
  n = n + 1
  local worker = workers[n % #workers + 1]
  return wrk.format("GET", "/api/v1/applications", { ["Authorization"] = "Bearer " .. worker.token })
end

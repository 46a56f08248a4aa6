-- One application with its timeline (GET /api/v1/applications/{id}), as its
-- owner: every (worker, application) pair of the signed-in workers in turn.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local pairs_, n = {}, 0
function init(args)
  local slot, count = thread_slot()
  local data = load_data()
  local k = 0
  for _, worker in ipairs(data.workers) do
    for _, id in ipairs(worker.applications) do
      k = k + 1
      if k % count == slot then table.insert(pairs_, { worker.token, id }) end
    end
  end
end

function request()
  n = n + 1
  local pair = pairs_[n % #pairs_ + 1]
  return wrk.format("GET", "/api/v1/applications/" .. pair[2], { ["Authorization"] = "Bearer " .. pair[1] })
end

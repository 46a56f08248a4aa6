-- WeChat sign-in (POST /api/v1/auth/wechat/login) in live mode against the
-- fake WeChat: each request is a code2session call, then the worker row, a
-- session in Redis, an audit row and a token pair. Nine in ten codes are
-- returning seeded workers (bench-N), one in ten a new worker.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local n, slot, run, workers = 0, 0, "", 100000
function init(args)
  slot = thread_slot()
  run = os.getenv("BENCH_RUN")
  workers = tonumber(os.getenv("BENCH_WORKERS"))
end

function request()
  n = n + 1
  local code
  if n % 10 == 0 then
    code = string.format("new-%s-%d-%d", run, slot, n)
  else
    code = "bench-" .. ((n * 7919 + slot * 50021) % workers)
  end
  return wrk.format("POST", "/api/v1/auth/wechat/login", { ["Content-Type"] = "application/json" },
    '{"code":"' .. code .. '"}')
end

-- Token refresh (POST /api/v1/auth/refresh), honestly chained: a refresh
-- token works once, so every request must carry the one the previous
-- refresh of its session returned. wrk does not say which connection a
-- response came back on, but it need not: each thread keeps a pool of live
-- refresh tokens (one per session, 4 sessions per connection); a request
-- takes one out, and its response puts the rotated successor back. A
-- session whose refresh failed is gone from the pool; should the pool run
-- dry, a request goes out with a dead token and counts as an error.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
extra_counters = { "rotated" }

rotated = 0
local pool = {}
function init(args)
  pool = thread_share(load_data().refresh_tokens)
end

function request()
  local token = table.remove(pool) or "exhausted"
  return wrk.format("POST", "/api/v1/auth/refresh", { ["Content-Type"] = "application/json" },
    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  if status == 200 then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      table.insert(pool, token)
      rotated = rotated + 1
    end
  end
end

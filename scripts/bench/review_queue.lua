-- A reviewer's queue in the staff console (GET /api/v1/staff/applications):
-- the submitted cases of the whole country, 20 a page, at page
-- BENCH_QUEUE_PAGE (1 unless set), as a national reviewer pages it; with
-- BENCH_QUEUE_CURSOR, the page after that cursor (keyset paging).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local token = os.getenv("BENCH_STAFF_TOKEN")
local page = os.getenv("BENCH_QUEUE_PAGE") or "1"
local cursor = os.getenv("BENCH_QUEUE_CURSOR")
local path = "/api/v1/staff/applications?status=submitted&page_size=20&page=" .. page
if cursor then
  path = path .. "&cursor=" .. cursor
end

function request()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

-- Public policy search: cycles through what workers really type, half of the
-- searches with a region filter (江宁区, which takes in 南京市, 江苏省 and
-- national policies), half without. With BENCH_UNIQUE=1 every search also
-- carries a word that matches nothing (n1, n2, …): the same work, but no two
-- searches alike, so none is answered from the server's cache of answers.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local queries = {
  "零工", "创业补贴", "社保转移", "技能培训", "欠薪", "住房", "子女入学", "医保", "就业", "落户",
  "拖欠工资", "租房补贴", "创业担保贷款", "工伤保险", "找工作",
}
local paths = {}
for i, q in ipairs(queries) do
  table.insert(paths, "/api/v1/policies?q=" .. urlencode(q))
  table.insert(paths, "/api/v1/policies?q=" .. urlencode(q) .. "&region_code=320115")
end

local n = 0
function init(args)
  n = thread_slot() * 7
end

local unique = os.getenv("BENCH_UNIQUE") == "1"

function request()
  n = n + 1
  local path = paths[n % #paths + 1]
  if unique then
    path = path:gsub("q=([^&]*)", "q=%1%%20n" .. thread_slot() .. "x" .. n)
  end
  return wrk.format("GET", path)
end

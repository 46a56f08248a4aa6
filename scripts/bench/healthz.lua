-- /healthz: the ceiling every other figure is divided by. The path is the
-- URL given to wrk (…/healthz); this only adds the common reporting.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

#!/usr/bin/env bash
# The load benchmark (not part of scripts/test.sh):
#   the release build on PostgreSQL + Redis, seeded at realistic volume
#   (10,000 policies, 100,000 workers, 200,000 applications, 50,000 wage
#   reports), then wrk against it, scenario by scenario: the /healthz
#   ceiling, public policy search, a worker's application list and one
#   application, wage-report submission with idempotency keys, WeChat login
#   against a fake WeChat, the staff console's review queue (its first page,
#   page 500 by number and page 1,000 by cursor), and token refresh. Prints
#   requests/s, p50, p99, p99.9, errors and the server's peak RSS per
#   scenario, each also as a ratio to the /healthz ceiling, and whether the
#   targets of issue 9 are met.
#
# The server runs on core 0 (taskset); wrk, the fake WeChat, PostgreSQL and
# Redis on core 1.
# Everything it creates is its own: a fresh database (dropped on exit) and a
# fresh Redis key prefix (deleted on exit). Starts PostgreSQL and Redis where
# they are stopped and installs wrk where missing (scripts/services.sh).
#
# Settings (environment):
#   BENCH_DURATION (20s)  BENCH_CONNECTIONS (64)  BENCH_THREADS (2)
#   BENCH_POLICIES (10000)  BENCH_WORKERS (100000)  BENCH_APPLICATIONS (200000)
#   BENCH_REPORTS (50000)  BENCH_SERVER_CORE (0)  BENCH_LOAD_CORE (1)
#   BENCH_PORT (18080)  BENCH_WECHAT_PORT (18081)
#   BENCH_DATABASE_QUERY (?sslmode=disable): appended to the server's
#   DATABASE_URL. PostgreSQL runs on this machine, where TLS over loopback
#   protects nothing and costs CPU; set it empty to measure with TLS (sqlx
#   then prefers it), as against a database on another host
#   BENCH_SCENARIOS (all): the scenarios to run besides healthz, e.g.
#   "application_detail wage_report"
#   BENCH_SERVICES_CORE (the load core): the core PostgreSQL and Redis are
#   moved to for the run (their processes and the backends PostgreSQL forks
#   meanwhile; every core is theirs again on exit), so that the server has
#   its core to itself, as with the database on another host. Empty, they
#   run where the kernel puts them: often on the server's core, beside the
#   process that wakes them
#   BENCH_PROFILE (unset): a directory; when set, perf samples the server
#   through each scenario and writes SCENARIO.txt there: how many samples,
#   the share of each binary and library, and the functions that took most
#   of the server's CPU (installs perf where missing)
#   BENCH_BIN (unset): a server binary to run instead of building the
#   release one (e.g. an older commit's, to compare)
#   BENCH_STATEMENTS (unset): a directory; when set, pg_stat_statements (which
#   must be preloaded: scripts/bench/write_cost.sh checks it) counts what each
#   scenario costs PostgreSQL in the bench database alone, and
#   SCENARIO.statements.txt there has statements and execution time per
#   request (and per new report for wage_report) and the top statements
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-20s}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
policies=${BENCH_POLICIES:-10000}
workers=${BENCH_WORKERS:-100000}
applications=${BENCH_APPLICATIONS:-200000}
reports=${BENCH_REPORTS:-50000}
server_core=${BENCH_SERVER_CORE:-0}
load_core=${BENCH_LOAD_CORE:-1}
port=${BENCH_PORT:-18080}
wechat_port=${BENCH_WECHAT_PORT:-18081}
# Workers the scenarios sign in (each owns five seeded applications).
signed_in=200

source scripts/services.sh

for tool in wrk curl taskset python3 psql; do
  command -v "$tool" >/dev/null || apt_install "$tool"
done
profile=${BENCH_PROFILE:-}
if [ -n "$profile" ]; then
  command -v perf >/dev/null || apt_install linux-perf
  mkdir -p "$profile"
  profile=$(cd "$profile" && pwd)
fi

bin=${BENCH_BIN:-}
if [ -z "$bin" ]; then
  say "release build"
  cargo build --release --locked --bin shiminhua
  bin="${CARGO_TARGET_DIR:-target}/release/shiminhua"
fi

run="bench$(date +%s)$$"
work=$(mktemp -d)
admin_url=$SHIMINHUA_TEST_POSTGRES_URL
database_url="${admin_url%/*}/$run${BENCH_DATABASE_QUERY-?sslmode=disable}"
redis_url=$SHIMINHUA_TEST_REDIS_URL
prefix="shiminhua-$run:"
server_pid=
wechat_pid=
services_core=${BENCH_SERVICES_CORE-$load_core}
all_cores="0-$(($(nproc) - 1))"

# pin_services CORES: PostgreSQL's and Redis's processes, and the backends
# PostgreSQL forks from now on, run on CORES only.
pin_services() {
  local pid
  for pid in $(pgrep -x postgres) $(pgrep -x redis-server); do
    taskset -a -p -c "$1" "$pid" >/dev/null 2>&1 || true
  done
}

# Stops what this script started (by pid), drops the database, deletes the
# Redis keys and the work directory. Runs once, on exit or interruption.
stop() { # pid
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  local status=$?
  trap - EXIT
  stop "$server_pid"
  stop "$wechat_pid"
  [ -z "$services_core" ] || pin_services "$all_cores"
  if [ "$status" != 0 ]; then
    for log in "$work"/*.log; do
      if [ -s "$log" ]; then
        echo "--- last lines of $(basename "$log") ---" >&2
        tail -n 30 "$log" >&2
      fi
    done
  fi
  psql "$admin_url" -q -c "DROP DATABASE IF EXISTS \"$run\" WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$redis_url" --scan --pattern "$prefix*" 2>/dev/null |
    xargs -r -n 500 redis-cli -u "$redis_url" del >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "database $run, Redis prefix $prefix"
psql "$admin_url" -q -c "CREATE DATABASE \"$run\""

# The server's configuration: production mode (secrets, Redis, PostgreSQL,
# live WeChat), with the fake WeChat and limits raised so that the load
# generator, one client IP and a few hundred workers, is not rate limited.
export DATABASE_URL=$database_url
export REDIS_URL=$redis_url
export SHIMINHUA_REDIS_PREFIX=$prefix
export SHIMINHUA_ENV=production
SHIMINHUA_JWT_SECRET=$(head -c 48 /dev/urandom | base64 -w0)
SHIMINHUA_DATA_KEY=$(head -c 32 /dev/urandom | base64 -w0)
SHIMINHUA_LOOKUP_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export SHIMINHUA_JWT_SECRET SHIMINHUA_DATA_KEY SHIMINHUA_LOOKUP_KEY
export SHIMINHUA_WECHAT_MODE=live
export SHIMINHUA_WECHAT_APPID=wx0123456789abcdef
export SHIMINHUA_WECHAT_SECRET=bench-secret-not-a-real-one
export SHIMINHUA_WECHAT_API_BASE=http://127.0.0.1:$wechat_port
export SHIMINHUA_BIND=127.0.0.1:$port
export SHIMINHUA_UPLOAD_DIR=$work/uploads
export SHIMINHUA_RATE_PUBLIC_READ=1000000000
export SHIMINHUA_RATE_PUBLIC_WRITE=1000000000
export SHIMINHUA_RATE_WORKER=1000000000
export SHIMINHUA_RATE_STAFF=1000000000
export SHIMINHUA_RATE_INTEGRATOR=1000000000
export SHIMINHUA_WAGE_REPORTS_PER_DAY=100000000

statements=${BENCH_STATEMENTS:-}
if [ -n "$statements" ]; then
  mkdir -p "$statements"
  statements=$(cd "$statements" && pwd)
  psql "$database_url" -q -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" ||
    die "pg_stat_statements is not available: see scripts/bench/write_cost.sh"
fi

say "migrate"
"$bin" migrate 2>"$work/migrate.log"

say "seed: $policies policies, $workers workers, $applications applications, $reports wage reports"
started=$SECONDS
psql "$database_url" -q -v policies="$policies" -v workers="$workers" -v applications="$applications" \
  -v reports="$reports" -v heavy=1000 -f scripts/bench/seed.sql
psql "$database_url" -At -F ' ' -c "SELECT 'seeded in $((SECONDS - started)) s:',
  (SELECT count(*) FROM policy) AS policies, (SELECT count(*) FROM worker) AS workers,
  (SELECT count(*) FROM application) AS applications, (SELECT count(*) FROM wage_report) AS reports" >&2

echo BenchAdmin-2026 | "$bin" create-admin --username bench-admin 2>>"$work/migrate.log" >/dev/null

if [ -n "$services_core" ]; then
  say "PostgreSQL and Redis on core $services_core"
  pin_services "$services_core"
fi
say "fake WeChat on core $load_core, server on core $server_core"
taskset -c "$load_core" python3 scripts/bench/fake_wechat.py "$wechat_port" 2>"$work/wechat.log" &
wechat_pid=$!
taskset -c "$server_core" "$bin" serve 2>"$work/server.log" &
server_pid=$!
base="http://127.0.0.1:$port"
wait_until 120 curl -fsS "$base/readyz" || die "the server did not become ready"

# A staff member signs in and reads the seeded rows through the statistics,
# which cover the whole country for a nationwide administrator.
staff_token=$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"username":"bench-admin","password":"BenchAdmin-2026"}' "$base/api/v1/staff/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -fsS -H "Authorization: Bearer $staff_token" \
  "$base/api/v1/staff/stats/overview?from=2020-01-01&to=$(date -u +%F)" |
  python3 -c 'import json,sys; o=json.load(sys.stdin); print("staff statistics: %d applications, %d wage reports" % (
    sum(a["count"] for a in o["applications"]), sum(w["count"] for w in o["wage_reports"]["by_status"])), file=sys.stderr)'

# Counties for the wage reports: spread over the country, as real ones are
# (each county and day has its own report-number counter row).
counties=$(psql "$database_url" -At -c \
  "SELECT string_agg(code, ',') FROM (SELECT code FROM region WHERE level = 'county' ORDER BY md5(code) LIMIT 200) c")
owed_from=$(date -u -d '-120 days' +%F)
owed_to=$(date -u -d '-10 days' +%F)

export BENCH_LUA_DIR=$PWD/scripts/bench BENCH_THREADS=$threads BENCH_RUN=$run BENCH_WORKERS=$workers
results=$work/results.jsonl

# statement_costs NAME REQUESTS: what the scenario cost PostgreSQL in this
# database (the server's statements and the notification deliverer's), per
# request and, for wage reports, per report the run created (retries create
# none), with the statements that cost most. Waits for the outbox to drain
# first, so that every report's delivery is counted.
# backend_ticks: "pid ticks" of every PostgreSQL backend serving this
# database (user and system CPU so far, in clock ticks): what it cost
# PostgreSQL in CPU, parsing, planning and committing included, lock waits
# not.
backend_ticks() {
  pid_ticks $(psql "$database_url" -At -c \
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
}
# postgres_ticks: the same of every PostgreSQL process, the WAL writer,
# checkpointer and autovacuum included (this machine's PostgreSQL serves
# nothing else while a scenario runs).
postgres_ticks() { pid_ticks $(pgrep -x postgres); }
pid_ticks() { # pid...
  local pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && awk -v pid="$pid" '{print pid, $14 + $15}' "/proc/$pid/stat"
  done
  return 0
}
# ticks_since FILE: clock ticks spent since FILE's "pid ticks" (read from
# stdin): a process that started since counts whole, one that ended not at
# all (the pool keeps its connections, so they are few).
ticks_since() {
  awk -v before="$1" 'BEGIN { while ((getline line < before) > 0) { split(line, f, " "); start[f[1]] = f[2] } }
     { total += $2 - start[$1] } END { print total + 0 }'
}
outbox_drained() { [ "$(psql "$database_url" -At -c 'SELECT count(*) FROM outbox WHERE done_at IS NULL')" = 0 ]; }
statement_costs() {
  local name=$1 requests=$2 created=$2 ticks all_ticks
  wait_until 30 outbox_drained || true
  ticks=$(backend_ticks | ticks_since "$work/ticks")
  all_ticks=$(postgres_ticks | ticks_since "$work/postgres_ticks")
  if [ "$name" = wage_report ]; then
    created=$(psql "$database_url" -At -c "SELECT count(*) FROM wage_report WHERE report_no NOT LIKE '%-B%'")
  fi
  psql "$database_url" -q -v requests="$requests" -v created="$created" -v ticks="$ticks" \
    -v all_ticks="$all_ticks" -v hz="$(getconf CLK_TCK)" -f - >"$statements/$name.statements.txt" <<'SQL'
\pset footer off
SELECT round(:ticks * 1000.0 / :hz / :created, 4) AS backend_cpu_ms_per_created,
  round(:ticks * 1000.0 / :hz / :requests, 4) AS backend_cpu_ms_per_request,
  round(:all_ticks * 1000.0 / :hz / :created, 4) AS postgres_cpu_ms_per_created;
CREATE TEMP VIEW cost AS SELECT s.* FROM pg_stat_statements s
  JOIN pg_database d ON d.oid = s.dbid AND d.datname = current_database()
  WHERE s.query NOT LIKE '%pg_stat_statements%';
SELECT :requests AS requests, :created AS created,
  round(sum(calls)::numeric / :requests, 2) AS statements_per_request,
  round(sum(calls)::numeric / :created, 2) AS statements_per_created,
  round((sum(total_exec_time) / :requests)::numeric, 4) AS exec_ms_per_request,
  round((sum(total_exec_time) / :created)::numeric, 4) AS exec_ms_per_created
FROM cost;
SELECT round(calls::numeric / :created, 2) AS per_created,
  round((total_exec_time / :created)::numeric, 4) AS ms_per_created,
  round(mean_exec_time::numeric, 4) AS mean_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 150) AS query
FROM cost ORDER BY total_exec_time DESC LIMIT 15;
SQL
  sed -n 1,8p "$statements/$name.statements.txt" >&2
}

# scenario NAME LUA PATH: runs wrk on the load core and appends its result
# line, with the server's peak RSS so far (VmHWM), to the results.
scenario() {
  local name=$1 lua=$2 path=$3 out
  if [ "$name" != healthz ] && [ -n "${BENCH_SCENARIOS:-}" ] && [[ " $BENCH_SCENARIOS " != *" $name "* ]]; then
    return 0
  fi
  sleep 2
  say "scenario $name: $connections connections, $duration"
  local perf_pid=
  if [ -n "$profile" ]; then
    taskset -c "$load_core" perf record -q -F 499 -p "$server_pid" -o "$work/$name.perf" 2>/dev/null &
    perf_pid=$!
  fi
  if [ -n "$statements" ]; then
    psql "$database_url" -qAt -c \
      "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)" >/dev/null
    backend_ticks >"$work/ticks"
    postgres_ticks >"$work/postgres_ticks"
  fi
  out=$(taskset -c "$load_core" wrk -t"$threads" -c"$connections" -d"$duration" --latency --timeout 10s \
    -s "scripts/bench/$lua" "$base$path")
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" && wait "$perf_pid" || true
    {
      perf report -i "$work/$name.perf" --stdio --sort dso 2>/dev/null | grep -E '^#.*(Samples|Event count)|%' | head -n 12
      perf report -q -i "$work/$name.perf" --stdio --sort dso,symbol 2>/dev/null | head -n 60
    } | sed 's/  */ /g' >"$profile/$name.txt" || true
  fi
  printf '%s\n' "$out" | grep -v '^BENCH ' >&2
  [ -z "$statements" ] || statement_costs "$name" "$(printf '%s\n' "$out" | sed -n 's/^BENCH {"requests":\([0-9]*\).*/\1/p')"
  local hwm rss
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status")
  printf '%s\n' "$out" | sed -n 's/^BENCH {\(.*\)}$/{"scenario":"'"$name"'","hwm_kb":'"$hwm"',"rss_kb":'"$rss"',\1}/p' >>"$results"
}

# signin ARGS…: signs workers in for the next scenario (tokens last 15 minutes).
signin() {
  export BENCH_DATA=$work/data.lua
  python3 scripts/bench/signin.py "$base" "$BENCH_DATA" "$@"
}

scenario healthz healthz.lua /healthz
scenario policy_search policy_search.lua /api/v1/policies
BENCH_UNIQUE=1 scenario policy_search_uncached policy_search.lua /api/v1/policies

signin --workers "$signed_in" --applications
scenario application_list application_list.lua /api/v1/applications
scenario application_detail application_detail.lua /api/v1/applications

signin --workers "$signed_in" --counties "$counties" --owed-from "$owed_from" --owed-to "$owed_to"
scenario wage_report wage_report.lua /api/v1/wage-reports

# No duplicates: every key that finished points at its own report, and every
# report the run created (numbers without the seed's -B) has exactly one key.
sleep 1
grep -q '"scenario":"wage_report"' "$results" && psql "$database_url" -At -F ' ' -c "
  SELECT (SELECT count(*) FROM wage_report WHERE report_no NOT LIKE '%-B%'),
         count(*), count(DISTINCT (principal, idempotency_key)),
         count(DISTINCT response_body::json->>'id')
  FROM idempotency_record WHERE state = 'done' AND response_body LIKE '%report_no%'" |
  { read -r created keys distinct_keys distinct_reports
    echo "{\"scenario\":\"wage_report_check\",\"reports_created\":$created,\"keys_done\":$keys,\"distinct_keys\":$distinct_keys,\"distinct_reports\":$distinct_reports}" >>"$results"; }

scenario wechat_login wechat_login.lua /api/v1/auth/wechat/login

# The staff console's review queue over every seeded application, at its
# first page and at page 500 (an OFFSET of 9,980 rows: the deepest a list
# pages before PAGE_TOO_DEEP asks for a filter), read by a national reviewer
# the administrator creates.
curl -fsS -o /dev/null -H "Authorization: Bearer $staff_token" -H 'Content-Type: application/json' \
  -d '{"username":"bench-reviewer","display_name":"基准审核员","password":"BenchReviewer-2026","roles":["reviewer"],"region_code":"000000"}' \
  "$base/api/v1/admin/staff"
BENCH_STAFF_TOKEN=$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"username":"bench-reviewer","password":"BenchReviewer-2026"}' "$base/api/v1/staff/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
export BENCH_STAFF_TOKEN
deep="$base/api/v1/staff/applications?status=submitted&page_size=20&page=500"
curl -fsS -o /dev/null -H "Authorization: Bearer $BENCH_STAFF_TOKEN" "$deep" ||
  die "page 500 of the review queue is not answered: $(curl -sS -H "Authorization: Bearer $BENCH_STAFF_TOKEN" "$deep")"
scenario review_queue review_queue.lua /api/v1/staff/applications
BENCH_QUEUE_PAGE=500 scenario review_queue_page_500 review_queue.lua /api/v1/staff/applications

# Page 1,000 by cursor (19,980 cases in, past where pages by number end):
# the setup walks pages 1 to 999 by their next_cursor, then wrk asks for
# page 1,000 with the cursor of page 999, as a reviewer who paged so far.
if [ -z "${BENCH_SCENARIOS:-}" ] || [[ " $BENCH_SCENARIOS " == *" review_queue_page_1000 "* ]]; then
  BENCH_QUEUE_CURSOR=$(python3 - "$base/api/v1/staff/applications?status=submitted&page_size=20" 999 <<'PY'
import json, os, sys, urllib.parse, urllib.request

url, pages = sys.argv[1], int(sys.argv[2])
cursor = None
for page in range(1, pages + 1):
    query = "&cursor=" + urllib.parse.quote(cursor) if cursor else ""
    request = urllib.request.Request(url + query, headers={"Authorization": "Bearer " + os.environ["BENCH_STAFF_TOKEN"]})
    body = json.load(urllib.request.urlopen(request))
    if body["page"] != page or not body["next_cursor"]:
        sys.exit(f"page {page} of the review queue: page {body['page']}, next_cursor {body['next_cursor']!r}")
    cursor = body["next_cursor"]
print(cursor)
PY
  ) || die "the review queue could not be walked to page 1,000"
  export BENCH_QUEUE_CURSOR
  BENCH_QUEUE_PAGE=1000 scenario review_queue_page_1000 review_queue.lua /api/v1/staff/applications
  unset BENCH_QUEUE_CURSOR
fi

signin --refresh $((connections * 4)) --prefix "$run"
scenario token_refresh token_refresh.lua /api/v1/auth/refresh

say "results"
python3 scripts/bench/report.py "$results" \
  --cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  --cores "$(nproc)" --server-core "$server_core" --load-core "$load_core" --services-core "$services_core" \
  --connections "$connections" --duration "$duration"

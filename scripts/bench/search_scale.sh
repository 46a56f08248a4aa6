#!/usr/bin/env bash
# The policy-search scale benchmark (issue 20): whether search costs follow
# the size of the library. For each size in BENCH_SIZES it seeds a fresh
# PostgreSQL database with that many policies (scripts/bench/seed.sql, with a
# token number of workers, applications and wage reports), starts the
# release server on an empty search-index directory and times how long
# /readyz takes to answer 200 (the index is built), runs unique-query policy
# search with wrk (scripts/bench/policy_search.lua with BENCH_UNIQUE=1, so
# no answer comes from the cache), reads the server's peak RSS (VmHWM), then
# restarts it on the same index directory and times /readyz again (the index
# is already on disk). Prints one Markdown table.
#
#   bash scripts/bench/search_scale.sh
#
# The server runs on core 0 (taskset), wrk, PostgreSQL and Redis on core 1.
# Everything it creates is its own: fresh databases (dropped on exit), a
# fresh Redis key prefix and a work directory (deleted on exit).
#
# Settings (environment):
#   BENCH_SIZES ("1000 10000 100000")  BENCH_DURATION (10s)
#   BENCH_CONNECTIONS (64)  BENCH_THREADS (2)  BENCH_SERVER_CORE (0)
#   BENCH_LOAD_CORE (1)  BENCH_PORT (18090)
#   BENCH_BIN (unset): a server binary to measure instead of building this
#   checkout's release build (to measure another revision's)
set -euo pipefail
cd "$(dirname "$0")/../.."

sizes=${BENCH_SIZES:-1000 10000 100000}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
server_core=${BENCH_SERVER_CORE:-0}
load_core=${BENCH_LOAD_CORE:-1}
port=${BENCH_PORT:-18090}

source scripts/services.sh

for tool in wrk curl taskset python3 psql; do
  command -v "$tool" >/dev/null || apt_install "$tool"
done

bin=${BENCH_BIN:-}
if [ -z "$bin" ]; then
  say "release build"
  cargo build --release --locked --bin shiminhua
  bin="${CARGO_TARGET_DIR:-target}/release/shiminhua"
fi

run="scale$(date +%s)$$"
work=$(mktemp -d)
admin_url=$SHIMINHUA_TEST_POSTGRES_URL
redis_url=$SHIMINHUA_TEST_REDIS_URL
prefix="shiminhua-$run:"
server_pid=
databases=()

stop_server() {
  [ -n "$server_pid" ] || return 0
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
cleanup() {
  local status=$?
  trap - EXIT
  stop_server
  [ "$status" = 0 ] || tail -n 30 "$work/migrate.log" "$work/server.log" >&2 2>/dev/null || true
  for db in "${databases[@]}"; do
    psql "$admin_url" -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  redis-cli -u "$redis_url" --scan --pattern "$prefix*" 2>/dev/null |
    xargs -r -n 500 redis-cli -u "$redis_url" del >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export REDIS_URL=$redis_url
export SHIMINHUA_REDIS_PREFIX=$prefix
export SHIMINHUA_ENV=production
SHIMINHUA_JWT_SECRET=$(head -c 48 /dev/urandom | base64 -w0)
SHIMINHUA_DATA_KEY=$(head -c 32 /dev/urandom | base64 -w0)
SHIMINHUA_LOOKUP_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export SHIMINHUA_JWT_SECRET SHIMINHUA_DATA_KEY SHIMINHUA_LOOKUP_KEY
export SHIMINHUA_BIND=127.0.0.1:$port
export SHIMINHUA_UPLOAD_DIR=$work/uploads
export SHIMINHUA_RATE_PUBLIC_READ=1000000000
# Production refuses the sandbox WeChat; search never calls WeChat, so the
# live settings only have to be well formed.
export SHIMINHUA_WECHAT_MODE=live SHIMINHUA_WECHAT_APPID=wx0123456789abcdef
export SHIMINHUA_WECHAT_SECRET=bench-secret-not-a-real-one SHIMINHUA_WECHAT_API_BASE=http://127.0.0.1:9
base="http://127.0.0.1:$port"

# start_server: starts the server on its core (server_pid) and sets ready_s
# to the seconds until /readyz answered 200.
start_server() {
  local started
  started=$(date +%s.%N)
  taskset -c "$server_core" "$bin" serve 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 6000); do
    if curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; then
      ready_s=$(awk -v from="$started" -v to="$(date +%s.%N)" 'BEGIN { printf "%.2f", to - from }')
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || die "the server exited"
    sleep 0.05
  done
  die "the server did not become ready"
}

export BENCH_LUA_DIR=$PWD/scripts/bench BENCH_THREADS=$threads BENCH_UNIQUE=1
rows=()
for size in $sizes; do
  db="${run}_$size"
  databases+=("$db")
  export DATABASE_URL="${admin_url%/*}/$db?sslmode=disable"
  export SHIMINHUA_SEARCH_INDEX_DIR=$work/index-$size
  psql "$admin_url" -q -c "CREATE DATABASE \"$db\""
  "$bin" migrate 2>>"$work/migrate.log"
  say "seed: $size policies"
  psql "$DATABASE_URL" -q -v policies="$size" -v workers=10 -v applications=10 -v reports=10 -v heavy=1 \
    -f scripts/bench/seed.sql

  say "$size policies: first start"
  start_server
  first=$ready_s
  sleep 2
  say "$size policies: unique-query search, $connections connections, $duration"
  out=$(taskset -c "$load_core" wrk -t"$threads" -c"$connections" -d"$duration" --latency --timeout 10s \
    -s scripts/bench/policy_search.lua "$base/api/v1/policies")
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
  stop_server
  say "$size policies: restart"
  start_server
  again=$ready_s
  stop_server
  rows+=("$(printf '%s\n' "$out" | sed -n 's/^BENCH //p' | python3 -c '
import json, sys
row = json.load(sys.stdin)
size, hwm, first, again = sys.argv[1:]
rps, p50, p99 = row["rps"], row["p50_us"] / 1000, row["p99_us"] / 1000
errors = row["non2xx"] + row["socket_errors"]
print(f"| {int(size):,} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors:,} | {int(hwm) / 1024:.0f} | {first} | {again} |")' "$size" "$hwm" "$first" "$again")")
  psql "$admin_url" -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
done

say "results"
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
  "server on core $server_core, wrk on core $load_core; $connections connections, $duration per size;" \
  "load average before the run's end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| policies | requests/s | p50 ms | p99 ms | errors | peak RSS MB | ready s (index built) | ready s (index on disk) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"

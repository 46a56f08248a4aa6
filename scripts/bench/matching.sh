#!/usr/bin/env bash
# The matching benchmark of 政策找人 (issue 19; not part of scripts/test.sh):
# 100,000 workers who agreed to 政策找人, spread over Jiangsu's counties, and
# a province-wide 免申即享 program opened by its administrator over HTTP. The
# release build serves on one core (taskset); PostgreSQL runs on the other.
# Measures how long the administrator's open request takes, the time from
# the open to every match, offer and notice written (the matching job's own
# timestamps), and the server's peak RSS while it matched (VmHWM, reset just
# before the open).
#
# The seeded workers have no ID number: ID numbers are stored encrypted
# under the service's data key (AES-GCM, bound to the row), which SQL cannot
# write, so the program's criteria are those the rest of the profile
# decides (place of residence or work, hukou type). Half the workers hold
# the hukou type it asks for: 50,000 matches, 50,000 offers and 50,000
# notices are written; the other half are read and judged too.
#
# Everything it creates is its own: a fresh database, dropped on exit.
# Settings (environment): BENCH_MATCH_WORKERS (100000), BENCH_SERVER_CORE (0),
# BENCH_SERVICES_CORE (1), BENCH_PORT (18090).
set -euo pipefail
cd "$(dirname "$0")/../.."

workers=${BENCH_MATCH_WORKERS:-100000}
server_core=${BENCH_SERVER_CORE:-0}
services_core=${BENCH_SERVICES_CORE:-1}
port=${BENCH_PORT:-18090}

source scripts/services.sh
for tool in curl taskset python3 psql; do
  command -v "$tool" >/dev/null || apt_install "$tool"
done

say "release build"
cargo build --release --locked --bin shiminhua
bin="${CARGO_TARGET_DIR:-target}/release/shiminhua"

run="matchbench$(date +%s)$$"
work=$(mktemp -d)
admin_url=$SHIMINHUA_TEST_POSTGRES_URL
database_url="${admin_url%/*}/$run?sslmode=disable"
server_pid=

pin_services() {
  local pid
  for pid in $(pgrep -x postgres); do
    taskset -a -p -c "$1" "$pid" >/dev/null 2>&1 || true
  done
}
cleanup() {
  local status=$?
  trap - EXIT
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  pin_services "0-$(($(nproc) - 1))"
  if [ "$status" != 0 ] && [ -s "$work/server.log" ]; then
    tail -n 30 "$work/server.log" >&2
  fi
  psql "$admin_url" -q -c "DROP DATABASE IF EXISTS \"$run\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql "$admin_url" -q -c "CREATE DATABASE \"$run\""
export DATABASE_URL=$database_url
export SHIMINHUA_BIND=127.0.0.1:$port
SHIMINHUA_JWT_SECRET=$(head -c 48 /dev/urandom | base64 -w0)
SHIMINHUA_DATA_KEY=$(head -c 32 /dev/urandom | base64 -w0)
SHIMINHUA_LOOKUP_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export SHIMINHUA_JWT_SECRET SHIMINHUA_DATA_KEY SHIMINHUA_LOOKUP_KEY
export SHIMINHUA_UPLOAD_DIR=$work/uploads RUST_LOG=warn,api::services::recommendations=info

say "migrate"
"$bin" migrate 2>"$work/migrate.log"

say "seed: $workers consenting workers in Jiangsu's counties"
psql "$database_url" -q -v workers="$workers" <<'SQL'
\set ON_ERROR_STOP on
SET synchronous_commit = off;
BEGIN;
CREATE TEMP TABLE bench_county AS
  SELECT row_number() OVER (ORDER BY code) - 1 AS n, code FROM region WHERE level = 'county' AND code LIKE '32%';
INSERT INTO worker (id, openid, real_name, hukou_region_code, hukou_type, residence_region_code,
                    work_region_code, consent_version, consented_at, created_at, updated_at)
SELECT md5('match-worker' || i)::uuid::text, 'wx-match-' || i, '工人' || i, c.code,
       CASE WHEN i % 2 = 0 THEN 'agricultural' ELSE 'resident' END, c.code, c.code,
       '2026-11', now(), now(), now()
FROM generate_series(0::bigint, :workers - 1) AS i
JOIN bench_county c ON c.n = i % (SELECT count(*) FROM bench_county);
INSERT INTO recommendation_consent (worker_id, consent_version, consented_at, updated_at)
SELECT id, 'recommend-2026-12', now(), now() FROM worker WHERE openid LIKE 'wx-match-%';
COMMIT;
ANALYZE worker;
ANALYZE recommendation_consent;
SQL

echo BenchAdmin-2026 | "$bin" create-admin --username bench-admin --region 320000 2>>"$work/migrate.log" >/dev/null
say "PostgreSQL on core $services_core, server on core $server_core"
pin_services "$services_core"
taskset -c "$server_core" "$bin" serve 2>"$work/server.log" &
server_pid=$!
base="http://127.0.0.1:$port"
wait_until 120 curl -fsS "$base/readyz" || die "the server did not become ready"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token=$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"username":"bench-admin","password":"BenchAdmin-2026"}' "$base/api/v1/staff/auth/login" | json '["access_token"]')
program=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{
  "name": "江苏省农民工稳岗补贴（基准）", "kind": "employment_subsidy", "region_code": "320000",
  "description": "基准测试用的免申即享补贴。", "period": "2026",
  "amount_rule": {"type": "fixed", "amount_fen": 80000},
  "criteria": [{"type": "lives_or_works_in_region"}, {"type": "hukou_type", "allowed": ["agricultural"]}],
  "required_documents": [],
  "form_fields": [{"key": "real_name", "label": "姓名", "kind": "text", "required": true}],
  "auto_offer": true}' "$base/api/v1/staff/programs" | json '["id"]')

sleep 2
echo 5 >"/proc/$server_pid/clear_refs"
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status")
say "open the program"
open_seconds=$(curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"expected_version": 1}' "$base/api/v1/staff/programs/$program/open")
for _ in $(seq 600); do
  done_at=$(psql "$database_url" -At -c "SELECT finished_at IS NOT NULL FROM matching_job WHERE program_id = '$program'")
  [ "$done_at" = t ] && break
  sleep 0.2
done
[ "$done_at" = t ] || die "the matching job did not finish in two minutes"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")

psql "$database_url" -At -F ' ' -c "
  SELECT round(extract(epoch FROM finished_at - created_at)::numeric, 2),
         round(extract(epoch FROM finished_at - started_at)::numeric, 2),
         evaluated, matched, offered, notified, last_error IS NULL,
         (SELECT count(*) FROM program_match WHERE program_id = '$program'),
         (SELECT count(*) FROM program_offer WHERE program_id = '$program' AND status = 'proposed'),
         (SELECT count(*) FROM outbox WHERE topic = 'recommendation.match')
  FROM matching_job WHERE program_id = '$program'" |
  { read -r total job evaluated matched offered notified clean matches offers outbox
    [ "$clean" = t ] || die "the matching job failed"
    cat <<REPORT

matching benchmark: $workers consenting workers, one province-wide 免申即享 program
  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), server on core $server_core, PostgreSQL on core $services_core
  the administrator's open request: ${open_seconds} s
  open to every match written: ${total} s (the job itself: ${job} s; the rest is the wait for the matcher's next tick)
  evaluated $evaluated, matched $matched, offered $offered, notified $notified
  rows: $matches matches, $offers proposed offers, $outbox notices in the outbox
  server RSS: ${rss_before} kB before the open, peak ${hwm} kB while matching
REPORT
  }

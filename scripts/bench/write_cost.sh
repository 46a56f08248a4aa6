#!/usr/bin/env bash
# What a wage report costs PostgreSQL: statements and execution time per
# report, from pg_stat_statements, over the benchmark's wage_report scenario
# (scripts/bench.sh with BENCH_SCENARIOS=wage_report and small seed volumes;
# any BENCH_* setting passes through). Prints the figures, the top
# statements and the load average (the figure that matters on a shared
# machine is the execution time, which other processes barely move).
#
# pg_stat_statements must be preloaded, which takes a restart of
# PostgreSQL. The script checks it and stops with the commands if not:
#   ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';
#   then restart PostgreSQL (pg_ctlcluster <version> main restart)
# With WRITE_COST_ENABLE=1 it runs both itself: only where this PostgreSQL
# is yours to restart (it drops every other client's connections).
#
# Settings (environment): WRITE_COST_DIR (a temporary directory): where the
# per-scenario files go (wage_report.statements.txt); WRITE_COST_SCENARIOS
# (wage_report).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/services.sh

preloaded() { psql "$SHIMINHUA_TEST_POSTGRES_URL" -At -c 'SHOW shared_preload_libraries' | grep -qw pg_stat_statements; }

if ! preloaded; then
  if [ "${WRITE_COST_ENABLE:-}" != 1 ]; then
    die "pg_stat_statements is not preloaded in this PostgreSQL. As a superuser run
  ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';
then restart PostgreSQL (pg_ctlcluster $(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1) main restart),
or run this script with WRITE_COST_ENABLE=1 to do both (it restarts PostgreSQL)."
  fi
  current=$(psql "$SHIMINHUA_TEST_POSTGRES_URL" -At -c 'SHOW shared_preload_libraries')
  say "adding pg_stat_statements to shared_preload_libraries ('$current') and restarting PostgreSQL"
  psql "$SHIMINHUA_TEST_POSTGRES_URL" -q -c \
    "ALTER SYSTEM SET shared_preload_libraries = '${current:+$current,}pg_stat_statements'"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main restart
  wait_until 30 postgres_answers || die "PostgreSQL did not come back after the restart"
  preloaded || die "pg_stat_statements is still not preloaded after the restart"
fi

dir=${WRITE_COST_DIR:-$(mktemp -d)}
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
BENCH_SCENARIOS=${WRITE_COST_SCENARIOS:-wage_report} \
  BENCH_DURATION=${BENCH_DURATION:-10s} \
  BENCH_POLICIES=${BENCH_POLICIES:-200} BENCH_WORKERS=${BENCH_WORKERS:-2000} \
  BENCH_APPLICATIONS=${BENCH_APPLICATIONS:-2000} BENCH_REPORTS=${BENCH_REPORTS:-2000} \
  BENCH_STATEMENTS=$dir scripts/bench.sh
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for file in "$dir"/*.statements.txt; do
  echo "== $(basename "$file" .statements.txt)"
  cat "$file"
done

#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1: starts them where they
# are installed but stopped, installs them with apt where they are missing
# (as root), and fails with a clear message otherwise. Sourced by test.sh;
# exports SHIMINHUA_TEST_POSTGRES_URL and SHIMINHUA_TEST_REDIS_URL.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

wait_until() { # tries, command...
  local tries=$1; shift
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}

postgres_answers() { pg_isready -q -h 127.0.0.1 -p 5432; }

ensure_postgres() {
  command -v pg_isready >/dev/null || apt_install postgresql
  if ! postgres_answers; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
    [ -n "$version" ] || apt_install postgresql
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    say "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
      die "PostgreSQL $version is installed but would not start"
    wait_until 30 postgres_answers || die "PostgreSQL did not answer on 127.0.0.1:5432"
  fi
  # A fresh Debian cluster asks for a password over TCP; a password on the
  # postgres role works with trust and password authentication alike.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1 \
      && [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
    runuser -u postgres -- psql -q -c "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null
    export SHIMINHUA_TEST_POSTGRES_URL=${SHIMINHUA_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
  fi
  export SHIMINHUA_TEST_POSTGRES_URL=${SHIMINHUA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
}

redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || apt_install redis-server
  if ! redis_answers; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null ||
      die "Redis is installed but would not start"
    wait_until 30 redis_answers || die "Redis did not answer on 127.0.0.1:6379"
  fi
  export SHIMINHUA_TEST_REDIS_URL=${SHIMINHUA_TEST_REDIS_URL:-redis://127.0.0.1:6379}
}

ensure_postgres
ensure_redis

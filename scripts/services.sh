#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1: starts them where they
# are installed but stopped, installs them with apt where they are missing
# (as root), and fails with a clear message otherwise; starts a three-master
# Redis Cluster of its own beside them. Sourced by test.sh; exports
# SHIMINHUA_TEST_POSTGRES_URL, SHIMINHUA_TEST_REDIS_URL and
# SHIMINHUA_TEST_REDIS_CLUSTER_URL; `ensure_object_store` starts a local
# S3-compatible store and exports SHIMINHUA_TEST_S3_SERVER.
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

# The cluster's nodes: three masters, no replicas, nothing kept on disk but
# each node's cluster state file, in a directory the next run starts over.
cluster_ports=(${SHIMINHUA_TEST_REDIS_CLUSTER_PORTS:-7001 7002 7003})
services_dir="${XDG_CACHE_HOME:-$HOME/.cache}/shiminhua"
cluster_dir="$services_dir/redis-cluster"

cluster_answers() {
  redis-cli -h 127.0.0.1 -p "${cluster_ports[0]}" cluster info 2>/dev/null | tr -d '\r' | grep -qx cluster_state:ok
}

ensure_redis_cluster() {
  # Its own loop variable: bench.sh has a `port` of its own.
  local port
  if ! cluster_answers; then
    say "starting a Redis Cluster of three masters on ports ${cluster_ports[*]}"
    for port in "${cluster_ports[@]}"; do
      redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    done
    rm -rf "$cluster_dir" && mkdir -p "$cluster_dir"
    local nodes=()
    for port in "${cluster_ports[@]}"; do
      redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --cluster-enabled yes \
        --cluster-config-file "$cluster_dir/nodes-$port.conf" --dir "$cluster_dir" \
        --logfile "$cluster_dir/$port.log" --save "" --appendonly no >/dev/null ||
        die "a Redis Cluster node would not start on port $port ($cluster_dir/$port.log)"
      wait_until 30 redis-cli -h 127.0.0.1 -p "$port" ping || die "the Redis Cluster node on port $port did not answer"
      nodes+=("127.0.0.1:$port")
    done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null ||
      die "redis-cli could not form the Redis Cluster (${nodes[*]})"
    wait_until 30 cluster_answers || die "the Redis Cluster on ports ${cluster_ports[*]} did not reach cluster_state:ok"
  fi
  local urls=()
  for port in "${cluster_ports[@]}"; do urls+=("redis://127.0.0.1:$port"); done
  SHIMINHUA_TEST_REDIS_CLUSTER_URL=$(IFS=,; echo "${urls[*]}")
  export SHIMINHUA_TEST_REDIS_CLUSTER_URL
}

# The local S3-compatible object store: moto's server (from PyPI, in the
# test tools' virtualenv, so test.sh calls this once that is ready).
s3_port=${SHIMINHUA_TEST_S3_PORT:-9100}
s3_answers() { curl -fsS -o /dev/null "http://127.0.0.1:$s3_port/"; }

ensure_object_store() { # venv
  local venv=$1
  if ! s3_answers; then
    say "starting the local S3-compatible store (moto) on port $s3_port"
    "$venv/bin/python" -c 'import moto.server' 2>/dev/null ||
      die "moto's server is not installed in $venv (scripts/requirements.txt)"
    mkdir -p "$services_dir"
    nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$services_dir/moto.log" 2>&1 &
    wait_until 60 s3_answers || die "the local S3-compatible store did not answer on port $s3_port ($services_dir/moto.log)"
  fi
  export SHIMINHUA_TEST_S3_SERVER="http://127.0.0.1:$s3_port"
}

ensure_postgres
ensure_redis
ensure_redis_cluster

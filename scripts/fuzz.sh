#!/usr/bin/env bash
# Runs schemathesis (all checks, bounded) against the service on a fresh
# SQLite database and a free port. Usage: scripts/fuzz.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1

cargo build --locked --bin shiminhua
binary="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/shiminhua"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Rate limits are tested by the suite; here they would only hide the
# operations behind 429s.
SHIMINHUA_BIND="127.0.0.1:$port" DATABASE_URL="sqlite://$work/fuzz.db?mode=rwc" \
  SHIMINHUA_UPLOAD_DIR="$work/uploads" RUST_LOG=warn \
  SHIMINHUA_RATE_PUBLIC_READ=1000000 SHIMINHUA_RATE_PUBLIC_WRITE=1000000 \
  "$binary" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done

"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-60}" \
  --max-failures 20 \
  --request-timeout 10 \
  --no-color \
  --seed 1

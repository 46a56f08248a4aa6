#!/usr/bin/env bash
# Runs schemathesis (all checks, bounded) against the service on a fresh
# SQLite database and a free port, signed in as a worker, as a staff member
# holding every role, as an integrator holding every scope and as the
# metrics scraper, each sent where the OpenAPI document's security schemes
# ask for it (scripts/schemathesis.toml). Usage: scripts/fuzz.sh VENV
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1

cargo build --locked --bin shiminhua
binary="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/shiminhua"

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATABASE_URL="sqlite://$work/fuzz.db?mode=rwc" SHIMINHUA_UPLOAD_DIR="$work/uploads"
# The operator's scraper token, so that /metrics is fuzzed past its 401 too.
export SHIMINHUA_METRICS_TOKEN SHIMINHUA_FUZZ_METRICS_TOKEN
SHIMINHUA_METRICS_TOKEN=$(head -c 32 /dev/urandom | base64 -w0)
SHIMINHUA_FUZZ_METRICS_TOKEN=$SHIMINHUA_METRICS_TOKEN
# Rate limits are tested by the suite; here they would only hide the
# operations behind 429s.
SHIMINHUA_BIND="127.0.0.1:$port" RUST_LOG=warn \
  SHIMINHUA_RATE_PUBLIC_READ=1000000 SHIMINHUA_RATE_PUBLIC_WRITE=1000000 \
  SHIMINHUA_RATE_WORKER=1000000 SHIMINHUA_RATE_STAFF=1000000 SHIMINHUA_RATE_INTEGRATOR=1000000 \
  "$binary" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

for _ in $(seq 60); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 $server 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done

post() { # path body [token]
  curl -fsS -X POST "$base$1" ${3:+-H "authorization: Bearer $3"} -H 'content-type: application/json' -d "$2"
}
echo 'fuzz-admin-password' | "$binary" create-admin --username fuzz.admin 2>>"$work/server.log"
admin=$(post /api/v1/staff/auth/login '{"username": "fuzz.admin", "password": "fuzz-admin-password"}' | jq -r .access_token)
post /api/v1/admin/staff '{"username": "fuzz.staff", "display_name": "fuzz", "password": "fuzz-staff-password",
  "roles": ["admin", "reviewer", "inspector", "policy_editor", "finance", "personal_data", "service_window"], "region_code": "000000"}' "$admin" >/dev/null
client=$(post /api/v1/admin/clients '{"name": "fuzz", "scopes": ["si_transfer:read", "si_transfer:write"]}' "$admin")
export SHIMINHUA_FUZZ_STAFF_TOKEN SHIMINHUA_FUZZ_WORKER_TOKEN SHIMINHUA_FUZZ_INTEGRATOR_TOKEN
SHIMINHUA_FUZZ_STAFF_TOKEN=$(post /api/v1/staff/auth/login '{"username": "fuzz.staff", "password": "fuzz-staff-password"}' | jq -r .access_token)
SHIMINHUA_FUZZ_WORKER_TOKEN=$(post /api/v1/auth/wechat/login '{"code": "fuzz-worker"}' | jq -r .access_token)
SHIMINHUA_FUZZ_INTEGRATOR_TOKEN=$(curl -fsS -X POST "$base/api/v1/oauth/token" \
  -d grant_type=client_credentials \
  --data-urlencode "client_id=$(jq -r .client_id <<<"$client")" \
  --data-urlencode "client_secret=$(jq -r .client_secret <<<"$client")" | jq -r .access_token)

# Logging out, revoking or rotating a client and changing a staff account
# (found through the lists' ids) would end the identities' own sessions for
# the rest of the run; the suite and the authorization matrix test them.
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/openapi.json" \
  --checks all \
  --exclude-operation-id logout \
  --exclude-operation-id revokeClient \
  --exclude-operation-id rotateClientSecret \
  --exclude-operation-id changeStaff \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-60}" \
  --max-failures 20 \
  --request-timeout 10 \
  --no-color \
  --seed 1

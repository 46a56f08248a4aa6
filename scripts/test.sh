#!/usr/bin/env bash
# Every check and every test, as CI runs them:
#   formatting, clippy, the whole suite on SQLite + in-process store and on
#   PostgreSQL + Redis and on PostgreSQL + a Redis Cluster + an S3-compatible
#   object store for uploads, the OpenAPI document's validity and spectral's
#   spectral:oas ruleset, a worker's whole flow driven by a client that
#   openapi-python-client generates, schemathesis against a running server,
#   and the staff console in headless Chromium (scripts/console_test.sh).
# Starts (or installs) PostgreSQL and Redis, Chromium and the console's npm
# packages where they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*" >&2; }

source scripts/services.sh

# The integrators' guide's examples are run by the suite with these.
for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || apt_install "$tool"
done

say "Python tools (schemathesis, openapi-spec-validator, openapi-python-client)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/shiminhua/venv"
if ! "$venv/bin/python" -c 'import schemathesis, openapi_spec_validator, openapi_python_client, moto.server' 2>/dev/null; then
  python3 -m venv "$venv" 2>/dev/null || { command -v apt-get >/dev/null && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements.txt
fi

ensure_object_store "$venv"

say "spectral (the OpenAPI linter), cached like the Python tools"
command -v npm >/dev/null || apt_install nodejs npm
node_tools="${XDG_CACHE_HOME:-$HOME/.cache}/shiminhua/node"
spectral="$node_tools/node_modules/.bin/spectral"
if ! "$spectral" --version >/dev/null 2>&1; then
  mkdir -p "$node_tools"
  npm install --prefix "$node_tools" --silent --no-audit --no-fund @stoplight/spectral-cli@6.16.3
fi

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "the shape of the code (scripts/structure.sh)"
scripts/structure.sh

# The suites' logs are kept and searched for the personal data the tests
# use (tests/pii_canaries.txt): none of it may ever reach a log line.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

say "tests on SQLite + in-process store"
SHIMINHUA_TEST_BACKEND=embedded cargo test --workspace --locked 2>&1 | tee "$logs/embedded.log"

say "tests on PostgreSQL + Redis"
SHIMINHUA_TEST_BACKEND=external cargo test --workspace --locked 2>&1 | tee "$logs/external.log"

say "tests on PostgreSQL + a three-master Redis Cluster + the S3-compatible object store"
SHIMINHUA_TEST_BACKEND=external SHIMINHUA_TEST_REDIS_URL="$SHIMINHUA_TEST_REDIS_CLUSTER_URL" \
  SHIMINHUA_TEST_S3_ENDPOINT="$SHIMINHUA_TEST_S3_SERVER" \
  cargo test --workspace --locked 2>&1 | tee "$logs/cluster.log"

say "no personal data in the logs of the test runs"
if grep -n -F -f tests/pii_canaries.txt "$logs"/*.log; then
  echo "error: personal data from tests/pii_canaries.txt appears in the logs above" >&2
  exit 1
fi

say "OpenAPI document is valid"
"$venv/bin/openapi-spec-validator" openapi/openapi.json

say "spectral lint (spectral:oas, .spectral.yaml): no warning, no error"
"$spectral" lint openapi/openapi.json --ruleset .spectral.yaml --fail-severity=warn

say "a worker's whole flow through a client openapi-python-client generates"
cargo build --locked --bin shiminhua
"$venv/bin/python" scripts/client_flow.py \
  "$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/shiminhua"

say "schemathesis against a running server"
scripts/fuzz.sh "$venv"

say "the staff console: its bundle, its size and its pages in headless Chromium"
scripts/console_test.sh

echo
echo "all checks passed"

#!/usr/bin/env bash
# Every check and every test, as CI runs them:
#   formatting, clippy, the whole suite on SQLite + in-process store and on
#   PostgreSQL + Redis, the OpenAPI document's validity, and schemathesis
#   against a running server.
# Starts (or installs) PostgreSQL and Redis where they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*" >&2; }

source scripts/services.sh

say "Python tools (schemathesis, openapi-spec-validator)"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/shiminhua/venv"
if ! "$venv/bin/python" -c 'import schemathesis, openapi_spec_validator' 2>/dev/null; then
  python3 -m venv "$venv" 2>/dev/null || { command -v apt-get >/dev/null && apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements.txt
fi

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "tests on SQLite + in-process store"
SHIMINHUA_TEST_BACKEND=embedded cargo test --workspace --locked

say "tests on PostgreSQL + Redis"
SHIMINHUA_TEST_BACKEND=external cargo test --workspace --locked

say "OpenAPI document is valid"
"$venv/bin/openapi-spec-validator" openapi/openapi.json

say "schemathesis against a running server"
scripts/fuzz.sh "$venv"

echo
echo "all checks passed"

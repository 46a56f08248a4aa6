#!/usr/bin/env bash
# The shape of the code, checked on every run of scripts/test.sh (issue 16):
#   - the services know no HTTP: nothing in api/src/services names poem or http;
#   - no route names an entity row (`Model`): services hand routes domain values;
#   - no import circles between the modules of api/src;
#   - no function over 80 lines, no handler over 25, no file over 600
#     (scripts/sizes.sh, which lists its few reasoned exceptions).
# Prints what breaks a rule and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
if grep -rnE '\bpoem\b|\bhttp::' api/src/services; then
  echo "error: the services above name poem or http; adapt in api/src/http or api/src/routes" >&2
  failed=1
fi
if grep -rnE '\bModel\b' api/src/routes | grep -vE '^\S+:\s*//'; then
  echo "error: the routes above name an entity Model; return a domain value from the service" >&2
  failed=1
fi
python3 scripts/import_circles.py api/src || failed=1
bash scripts/sizes.sh api/src || failed=1
exit "$failed"

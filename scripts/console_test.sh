#!/usr/bin/env bash
# The staff console (issue 18), as scripts/test.sh runs it after the API suites:
#   - Debian's chromium and fonts-noto-cjk, installed where missing;
#   - the console's npm packages (npm ci), cached by the hash of package-lock.json;
#   - the generated API types and the committed bundle (console/dist) are not
#     stale: regenerated and rebuilt (vue-tsc --noEmit first), then compared
#     with what is committed;
#   - the initial JavaScript's gzipped size, against its budget;
#   - browser tests (console/tests, Node's test runner driving headless
#     Chromium through playwright-core) against the debug shiminhua binary on
#     a random port with a fresh SQLite database; screenshots of every page
#     to console/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/apt_install.sh

say "Chromium and CJK fonts for the browser tests"
# grep reads all of fc-list's output (no -q), so pipefail sees no broken pipe.
cjk_fonts() { fc-list 2>/dev/null | grep "Noto Sans CJK" >/dev/null; }
# A failed install is reported below, by what is still missing.
command -v chromium >/dev/null || apt_install chromium || true
cjk_fonts || apt_install fonts-noto-cjk fontconfig || true
chromium=$(command -v chromium) ||
  die "chromium is required by the console's browser tests and could not be installed (apt-get install chromium)"
cjk_fonts || die "fonts-noto-cjk is required for the console's Chinese screenshots and could not be installed"

say "the console's npm packages (npm ci, cached by package-lock.json)"
command -v npm >/dev/null || apt_install nodejs npm
node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1)' ||
  die "the console's build (Vite) needs Node.js 20.19 or later; this machine has $(node --version)"
lock=$(sha256sum console/package-lock.json | cut -c1-16)
cached="${XDG_CACHE_HOME:-$HOME/.cache}/shiminhua/console/$lock"
if [ ! -f "$cached/complete" ]; then
  rm -rf console/node_modules "$cached"
  (cd console && npm ci --no-audit --no-fund --loglevel=error)
  mkdir -p "$cached"
  cp -a console/node_modules "$cached/node_modules"
  touch "$cached/complete"
elif [ "$(cat console/node_modules/.lock-hash 2>/dev/null)" != "$lock" ]; then
  rm -rf console/node_modules
  # Hard links where the cache shares the file system, a copy elsewhere.
  cp -al "$cached/node_modules" console/node_modules 2>/dev/null ||
    cp -a "$cached/node_modules" console/node_modules
fi
echo "$lock" > console/node_modules/.lock-hash

say "the console's API types match openapi/openapi.json (npm run gen:api)"
(cd console && npm run --silent gen:api >/dev/null)
git diff --exit-code -- console/src/api/schema.d.ts ||
  die "console/src/api/schema.d.ts is stale: run 'npm run gen:api' in console/ and commit it"

say "the committed bundle is what the sources build (vue-tsc --noEmit, vite build)"
(cd console && npm run --silent build >/dev/null)
built=(console/dist console/src/components.d.ts)
if ! git diff --exit-code --stat -- "${built[@]}" || [ -n "$(git ls-files --others --exclude-standard -- "${built[@]}")" ]; then
  git status --short -- "${built[@]}" >&2
  die "console/dist is stale: run 'npm ci && npm run build' in console/ and commit console/dist"
fi

say "the initial JavaScript's size"
node console/scripts/size.mjs

say "the console in headless Chromium"
cargo build --locked --bin shiminhua
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
(cd console && SHIMINHUA_BIN="$target/debug/shiminhua" CHROMIUM="$chromium" npm run --silent test:browser)

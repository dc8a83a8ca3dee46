#!/bin/sh
# install.sh DIR: playwright-core from the npm registry into DIR (e.g.
# build/web), exactly as tests/web/package-lock.json pins it. Runs outside
# the tests' network namespace (ctest fixture web.npm-install); does nothing
# when DIR already holds that version.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
mkdir -p "$dir"
want=$(sed -n 's/.*"playwright-core": "\([0-9.]*\)".*/\1/p' "$here/package.json")
have=$(sed -n 's/.*"version": "\([0-9.]*\)".*/\1/p' "$dir/node_modules/playwright-core/package.json" 2>/dev/null | head -1)
[ "$have" = "$want" ] && exit 0
cp "$here/package.json" "$here/package-lock.json" "$dir/"
cd "$dir" && npm ci --no-audit --no-fund --loglevel=error

#!/usr/bin/env bash
# Copies the map's and attack mode's browser files from node_modules into core/static/vendor/ (no CDN, no build
# step).
# Run after `npm ci` whenever package-lock.json changes; commit the copied files with the lockfile.
# The versions are pinned in package.json/package-lock.json and listed in core/static/vendor/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

src=node_modules
dest=core/static/vendor

[ -d "$src/world-atlas" ] || { echo "node_modules is missing: run 'npm ci' first" >&2; exit 1; }
mkdir -p "$dest"
cp "$src/world-atlas/countries-110m.json"              "$dest/countries-110m.json"
cp "$src/topojson-client/dist/topojson-client.min.js"  "$dest/topojson-client.min.js"
cp "$src/d3-array/dist/d3-array.min.js"                "$dest/d3-array.min.js"
cp "$src/d3-geo/dist/d3-geo.min.js"                    "$dest/d3-geo.min.js"
# ALTCHA's "external" build: no inline styles (its CSS is a file) and no bundled workers (the worker is a file).
cp "$src/altcha/dist/external/altcha.min.js"           "$dest/altcha.min.js"
cp "$src/altcha/dist/external/altcha.css"              "$dest/altcha.css"
cp "$src/altcha/dist/workers/pbkdf2.js"                "$dest/altcha-pbkdf2-worker.js"

for package in world-atlas topojson-client d3-array d3-geo altcha; do
    printf '%-16s %s\n' "$package" "$(node -p "require('./$src/$package/package.json').version")"
done
echo "copied into $dest"

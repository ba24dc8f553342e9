#!/usr/bin/env bash
# Install the pinned npm packages and copy their browser builds into the static folder.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
out=src/pingan/web/static/vendor
mkdir -p "$out/leaflet/images"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp node_modules/echarts/dist/echarts.min.js "$out/echarts.min.js"
cp node_modules/leaflet/dist/leaflet.js "$out/leaflet/leaflet.js"
cp node_modules/leaflet/dist/leaflet.css "$out/leaflet/leaflet.css"
cp node_modules/leaflet/dist/images/* "$out/leaflet/images/"
echo "assets built into $out"

#!/usr/bin/env bash
# Install the pinned npm packages and copy their browser builds into the static folder.
set -euo pipefail
cd "$(dirname "$0")/.."
# --ignore-scripts: the browser builds need no install step, and swagger-ui-dist's dependency
# @scarf/scarf would report the installation over the network (also off in package.json).
if [ -f package-lock.json ]; then npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
else npm install --ignore-scripts --no-audit --no-fund --loglevel=error; fi
out=src/pingan/web/static/vendor
mkdir -p "$out/leaflet/images" "$out/swagger-ui"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx.min.js"
cp node_modules/echarts/dist/echarts.min.js "$out/echarts.min.js"
cp node_modules/leaflet/dist/leaflet.js "$out/leaflet/leaflet.js"
cp node_modules/leaflet/dist/leaflet.css "$out/leaflet/leaflet.css"
cp node_modules/leaflet/dist/images/* "$out/leaflet/images/"
# the API docs page (/api/docs) offline: Swagger UI's bundle and styles, started by static/swagger-init.js
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js "$out/swagger-ui/swagger-ui-bundle.js"
cp node_modules/swagger-ui-dist/swagger-ui.css "$out/swagger-ui/swagger-ui.css"
echo "assets built into $out"

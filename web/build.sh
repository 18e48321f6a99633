#!/usr/bin/env bash
# Copies the vendored npm assets the pages use into assets/vendor/, where
# the binary embeds them from. Run after changing package.json:
#
#   npm ci --prefix web && web/build.sh
#
# and commit web/assets/. The binary never fetches anything at run time.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules/leaflet ]; then
  echo "node_modules/leaflet is missing: run 'npm ci' in web/ first" >&2
  exit 1
fi

dest=assets/vendor/leaflet
rm -rf "$dest"
mkdir -p "$dest/images"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$dest/"
cp node_modules/leaflet/dist/images/*.png "$dest/images/"
cp node_modules/leaflet/LICENSE "$dest/LICENSE"
echo "copied leaflet $(node -p "require('./node_modules/leaflet/package.json').version") into $dest"

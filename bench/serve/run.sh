#!/usr/bin/env bash
# Load benchmark of `hazardline serve` on the embedded store: the two
# routes the issue sets floors for.
#
#   my alerts   GET  /api/v1/me/alerts   ≥ 20,000 requests/s, p99 < 20 ms
#   subscribe   POST /api/v1/subscribers ≥ 2,000 requests/s,  p99 < 50 ms
#               (geocode the address, seal the personal data, durable commit)
#
# The service runs the demo region (geodata built in) with a fresh
# embedded store; RESIDENTS residents are registered first, a demo
# earthquake report is sent so that most of them have an alert in force,
# then wrk (from Debian's package) drives each route with CONNECTIONS
# connections for DURATION. Server and load generator share the machine's
# cores, as they would on a 2-core box.
#
# Usage: bench/serve/run.sh [RESIDENTS] [DURATION] [CONNECTIONS]
# Prints wrk's report for each route and a summary line per route that
# bench/RESULTS.md records.
set -euo pipefail
cd "$(dirname "$0")/../.."

residents=${1:-20000}
duration=${2:-30s}
connections=${3:-64}
threads=2

command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 2; }
cargo build --release --locked --bin hazardline >&2
bin=${CARGO_TARGET_DIR:-target}/release/hazardline

work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/drop"
cat > "$work/hazardline.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"

[storage]
kind = "embedded"
dir = "$work/store"

[geodata]
demo = true

[clock]
start = "2026-07-01T07:30:00+08:00"

[limits]
# The benchmark is one client address: lift the per-client limits so they
# do not measure themselves.
public_per_minute = 100000000
public_burst = 100000000
subscribe_per_minute = 100000000

[[ingest.sources]]
id = "drop"
kind = "directory"
path = "$work/drop"
poll_interval_secs = 1
senders = ["*@demo.hazardline.invalid"]
TOML

HAZARDLINE_DATA_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))') \
  "$bin" serve --config "$work/hazardline.toml" --log-format json 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }

# Addresses in the demo region: door numbers on the demo gazetteer's roads
# and bare village addresses, so the geocoder does real work.
python3 bench/serve/addresses.py > "$work/addresses.txt"

echo "registering $residents residents…" >&2
python3 bench/serve/register.py "http://127.0.0.1:$port" "$residents" "$work/addresses.txt" > "$work/keys.txt"
echo "sending the demo earthquake (counties 99000 and 99100)…" >&2
cp demo/cap/03-earthquake.xml "$work/drop/.alert.xml"
mv "$work/drop/.alert.xml" "$work/drop/alert.xml"
sleep 4
with_alert=$(python3 bench/serve/count_alerts.py "http://127.0.0.1:$port" "$work/keys.txt" 500)
echo "residents with an alert in force (sample of 500): $with_alert" >&2

commit=$(git rev-parse --short HEAD)
echo "== my alerts (commit $commit, $residents residents, $connections connections, $duration)"
wrk -t$threads -c"$connections" -d"$duration" --latency -s bench/serve/my_alerts.lua \
  "http://127.0.0.1:$port" -- "$work/keys.txt" | tee "$work/my_alerts.txt"
echo "== subscribe (commit $commit, $connections connections, $duration)"
wrk -t$threads -c"$connections" -d"$duration" --latency -s bench/serve/subscribe.lua \
  "http://127.0.0.1:$port" -- "$work/addresses.txt" | tee "$work/subscribe.txt"

python3 bench/serve/summary.py "$work/my_alerts.txt" "$work/subscribe.txt"
errors=$(grep -c '"level":"ERROR"' "$work/serve.log" || true)
echo "service log: $errors ERROR lines"

#!/usr/bin/env bash
# Memory of `hazardline serve` under a flood of wrong staff logins.
#
# Starts `hazardline serve --demo` (release) with a bootstrap operator,
# then bench/login/flood.py fires ROUNDS rounds of CONCURRENCY simultaneous
# wrong passwords for that operator, each from its own made-up address,
# and reads VmRSS from /proc/<pid>/status idle, during (peak, sampled every
# 50 ms) and after each round. The floor: within 100 MiB of the idle figure.
#
# MODE=pool (default) lifts the per-account and per-address limits so that
# every attempt reaches the password workers: it measures the bounded
# pool. MODE=defaults keeps the shipped limits (most attempts are refused
# before any hash). The owner logs in with their device cookie in the
# middle of every round; its status and latency are printed.
#
# Usage: [MODE=pool|defaults] [BIN=…] bench/login/run.sh [ROUNDS] [CONCURRENCY]
# (not run in CI)
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-5}
concurrency=${2:-200}
mode=${MODE:-pool}
user=bench-operator
password='a long bench password'

# BIN=path/to/hazardline skips the build (e.g. to measure another build).
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked --bin hazardline >&2
fi
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release/hazardline}

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/hazardline.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"

[limits]
trust_forwarded = true
TOML
if [ "$mode" = pool ]; then
  cat >> "$work/hazardline.toml" <<TOML

[logins]
max_failures = 100000000
address_max_failures = 100000000
TOML
fi

HAZARDLINE_BOOTSTRAP_OPERATOR="$user:$password" RUST_LOG=warn \
  "$bin" serve --demo --config "$work/hazardline.toml" 2>"$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
sleep 2 # let start-up settle before the idle figure

echo "mode=$mode rounds=$rounds concurrency=$concurrency workers=$(nproc) cores"
python3 bench/login/flood.py "http://127.0.0.1:$port" "$server" "$user" \
  "$rounds" "$concurrency" "$password"
echo "failed-login WARN lines: $(grep -c 'failed staff login' "$work/serve.log" || true)"

#!/usr/bin/env bash
# The matcher benchmark: generates the workload of bench/WORKLOAD.md with
# N places, runs `hazardline match`, the grid baseline and PostGIS on the
# same files, checks that all engines agree on every count, and prints a
# Markdown report (also written to $OUT/report.md).
#
#   bench/matcher/run.sh [N]          # N places, default 100000
#
# Environment: HAZARDLINE_SHARED_DATA (default: ../shared/data beside the
# repository), SEED (42), OUT (bench/out/matcher-N), POSTGIS=0 to skip
# PostgreSQL, REUSE=1 to keep an already generated workload of the same
# N and seed, RSTAR=1 to add the rstar comparison, PGHOST/PGPORT/PGUSER (127.0.0.1, 5432, postgres; trust auth).
# Exits non-zero when the engines disagree or a step fails.
set -euo pipefail

N=${1:-100000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${HAZARDLINE_SHARED_DATA:-$ROOT/../shared/data}
SEED=${SEED:-42}
OUT=${OUT:-$ROOT/bench/out/matcher-$N}
POSTGIS=${POSTGIS:-1}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DB=hazardline_bench_matcher
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

if [ ! -d "$DATA/boundaries" ]; then
  echo "run.sh: shared data not found at $DATA (set HAZARDLINE_SHARED_DATA)" >&2
  exit 2
fi
mkdir -p "$OUT"
ms() { date +%s%3N; }
# The commit measured (taken before building, so a later commit during a
# long run is not credited).
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . 2>/dev/null || echo ' (with local changes)')"

echo "== build" >&2
(cd "$ROOT" && cargo build --quiet --release -p hazardline -p matcher --bins --examples)
BIN=$TARGET/release

if [ "${REUSE:-0}" = 1 ] && [ -s "$OUT/places.csv" ] && [ -s "$OUT/areas.tsv" ]; then
  echo "== reusing the workload in $OUT" >&2
else
  echo "== generate $N places (seed $SEED) into $OUT" >&2
  "$BIN/examples/bench_workload" --data "$DATA" --places "$N" --seed "$SEED" --out "$OUT"
fi

echo "== matcher" >&2
"$BIN/hazardline" match --json --places "$OUT/places.csv" --areas "$OUT/areas.geojson" > "$OUT/matcher.jsonl"
echo "== grid baseline" >&2
"$BIN/examples/bench_grid" --places "$OUT/places.csv" --areas "$OUT/areas.geojson" > "$OUT/grid.jsonl"

ENGINES=(--engine "matcher=$OUT/matcher.jsonl" --engine "grid=$OUT/grid.jsonl")
if [ "${RSTAR:-0}" = 1 ]; then
  echo "== rstar" >&2
  "$BIN/examples/bench_rstar" --places "$OUT/places.csv" --areas "$OUT/areas.geojson" > "$OUT/rstar.jsonl"
  ENGINES+=(--engine "rstar=$OUT/rstar.jsonl")
fi

install_postgis() {
  echo "== installing PostGIS" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3) >&2
}

ensure_postgis() {
  command -v psql >/dev/null || install_postgis || return 1
  if ! pg_isready -q 2>/dev/null; then
    command -v pg_ctlcluster >/dev/null && pg_ctlcluster 15 main start 2>/dev/null || true
    sleep 2
  fi
  pg_isready -q || return 1
  if [ -z "$(psql -Atc "select 1 from pg_available_extensions where name = 'postgis'")" ]; then
    install_postgis || return 1
  fi
}

if [ "$POSTGIS" = 1 ]; then
  ensure_postgis || { echo "run.sh: PostgreSQL with PostGIS is not available (POSTGIS=0 skips it)" >&2; exit 2; }
  echo "== PostGIS" >&2
  psql -q -v ON_ERROR_STOP=1 -c "drop database if exists $DB" -c "create database $DB" >/dev/null
  PSQL=(psql -q -v ON_ERROR_STOP=1 -d "$DB")
  "${PSQL[@]}" -c "create extension postgis" -c "set client_min_messages = warning"
  t0=$(ms)
  "${PSQL[@]}" <<SQL
create unlogged table raw_places (id bigint, lon float8, lat float8);
\copy raw_places from '$OUT/places.csv' with (format csv, header true)
-- Stored in geohash order, so that neighbouring places share heap pages
-- (what a DBA would do; the CSV's order is random).
create unlogged table places as
  select id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geometry(Point, 4326) as geom from raw_places
  order by ST_GeoHash(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 10);
drop table raw_places;
SQL
  t1=$(ms)
  "${PSQL[@]}" -c "create index places_geom on places using gist (geom)" -c "vacuum analyze places"
  t2=$(ms)
  "${PSQL[@]}" <<SQL
create table areas (id bigint primary key, class text, geojson text, geom geometry);
\copy areas (id, class, geojson) from '$OUT/areas.tsv'
update areas set geom = ST_SetSRID(ST_GeomFromGeoJSON(geojson), 4326);
create table results (id bigint, matched bigint, micros bigint);
SQL
  t3=$(ms)
  # One backend, no parallel workers: the single-threaded comparison.
  "${PSQL[@]}" <<'SQL'
set max_parallel_workers_per_gather = 0;
do $$
declare a record; c bigint; t timestamptz;
begin
  for a in select id, geom from areas order by id loop
    t := clock_timestamp();
    execute 'select count(*) from places where ST_Covers($1, geom)' into c using a.geom;
    insert into results values (a.id, c, (extract(epoch from clock_timestamp() - t) * 1e6)::bigint);
  end loop;
end $$;
SQL
  t4=$(ms)
  "${PSQL[@]}" -At -c "select json_build_object('id', id, 'matched', matched, 'micros', micros) from results order by id" > "$OUT/postgis.jsonl"
  "${PSQL[@]}" -At -c "select json_build_object('places', (select count(*) from places), 'load_ms', $((t1 - t0)), 'index_ms', $((t2 - t1)), 'query_ms', (select (sum(micros) / 1000)::bigint from results), 'client_ms', $((t4 - t3)), 'index_bytes', pg_relation_size('places_geom'), 'threads', 1)" >> "$OUT/postgis.jsonl"
  psql -q -c "drop database if exists $DB" >/dev/null
  ENGINES+=(--engine "postgis=$OUT/postgis.jsonl")
fi

{
  echo "Commit $COMMIT, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "Command: bench/matcher/run.sh $N (seed $SEED)"
  echo
} > "$OUT/report.md"
status=0
"$BIN/examples/bench_compare" --areas "$OUT/areas.geojson" "${ENGINES[@]}" >> "$OUT/report.md" || status=$?
cat "$OUT/report.md"
exit $status

#!/usr/bin/env bash
# Benchmarks, on a fresh SQLite file and on a throwaway PostgreSQL, printing p50/p95/p99:
#  - the users list (search + role filter + sort + page + cards) per query shape, with 100,000
#    users and 1,000 teams;
#  - the teams list (search + sort + page + cards) per query shape, with 10,000 teams, 100,000
#    users and a year of month aggregates;
#  - the gateway: chat requests at 1,000/s straight to a stub upstream and through the gateway
#    (auth + reserve + forward + settle, and the request log line), and the difference.
# They are a binary of their own, tollgate-bench, so the served tollgate holds none of them.
# Usage: scripts/bench.sh [USERS] [TEAMS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
source scripts/env.sh
users=${1:-100000}
teams=${2:-1000}

cargo build --release -p tollgate --bin tollgate-bench
bin="$CARGO_TARGET_DIR/release/tollgate-bench"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"

scratch=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
source scripts/postgres.sh
start_postgres
trap 'stop_postgres; rm -rf "$scratch"' EXIT

DATABASE_URL="sqlite://$scratch/bench.db?mode=rwc" "$bin" users --users "$users" --teams "$teams"
echo
pg_base=${TOLLGATE_TEST_POSTGRES_URL%/*}
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_bench" "$bin" users --users "$users" --teams "$teams"

echo
DATABASE_URL="sqlite://$scratch/teams.db?mode=rwc" "$bin" teams
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_teams_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_teams_bench" "$bin" teams
echo
# The gateway writes a log line per request, as `tollgate serve` does: into a file here (the
# benchmark logs to stderr), so the figures stay readable and the writes are measured.
bench_gateway() {
  local log="$scratch/gateway-$1.log"
  if ! DATABASE_URL="$2" "$bin" gateway 2>"$log"; then
    tail -n 20 "$log" >&2
    return 1
  fi
  echo "(log written meanwhile: $(wc -l < "$log") lines)"
}
bench_gateway sqlite "sqlite://$scratch/gateway.db?mode=rwc"
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_gateway_bench" >/dev/null
bench_gateway postgres "$pg_base/tollgate_gateway_bench"

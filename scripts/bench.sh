#!/usr/bin/env bash
# Benchmarks, on a fresh SQLite file and on a throwaway PostgreSQL, printing p50/p95/p99:
#  - the users list (search + role filter + sort + page + cards) per query shape, with 100,000
#    users and 1,000 teams;
#  - the teams list (search + sort + page + cards) per query shape, with 10,000 teams, 100,000
#    users and a year of month aggregates;
#  - the audit log per filter with 1,000,000 entries, and the Usage page's report per range and
#    grouping over 90 days of 10,000 teams and 100,000 people (about 10 million requests);
#  - the gateway, from outside: three processes (this load generator, the stub upstream, the
#    release `tollgate serve`), chat requests at 200/s and 1,000/s straight to the stub and
#    through the gateway (auth + reserve + forward + settle + the request log line), and the
#    difference; then a check that what was metered is exactly what was answered; and what 20
#    guardrails add to a realistic conversation;
#  - access changes: how soon the gateway refuses a key another process revoked, and the
#    database transactions an idle gateway makes;
#  - the browser bundle: each file's size, brotli and raw — the main piece every page loads,
#    and the lazily loaded piece of each page;
#  - the first load: the Users page with 5,000 users in Chromium over a throttled network
#    (1.6 Mbit/s, 150 ms latency), cold and warm (end2end/tools/first-load.mjs); then the same
#    for the Usage page, where signing in lands;
#  - the framework's floor (bench/bundle-floor): the smallest app on this stack, hydrated and as
#    one Leptos island, built like the real bundle — what any bundle costs before its pages.
# They are a binary of their own, tollgate-bench, so the served tollgate holds none of them.
# Usage: scripts/bench.sh [USERS] [TEAMS]   — everything
#        scripts/bench.sh gateway           — the gateway and access changes only
#        scripts/bench.sh first-load        — the first load only
#        scripts/bench.sh bundle-floor      — the framework's floor only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
source scripts/env.sh
only=all
case "${1:-}" in gateway|first-load|bundle-floor) only=$1; shift ;; esac
users=${1:-100000}
teams=${2:-1000}

if [ $only = bundle-floor ]; then
  scripts/bundle-floor.sh
  exit 0
fi
cargo leptos build --release --precompress --split
cargo build --release -p tollgate --bins
bin="$CARGO_TARGET_DIR/release/tollgate-bench"
# TOLLGATE=path measures another build (say, the last release) with the same benchmark.
tollgate="${TOLLGATE:-$CARGO_TARGET_DIR/release/tollgate}"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"

scratch=$(mktemp -d /tmp/tollgate-bench.XXXXXX)
source scripts/postgres.sh
start_postgres
trap 'stop_postgres; rm -rf "$scratch"' EXIT

pg_base=${TOLLGATE_TEST_POSTGRES_URL%/*}
if [ $only = all ]; then
DATABASE_URL="sqlite://$scratch/bench.db?mode=rwc" "$bin" users --users "$users" --teams "$teams"
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_bench" "$bin" users --users "$users" --teams "$teams"

echo
DATABASE_URL="sqlite://$scratch/teams.db?mode=rwc" "$bin" teams
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_teams_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_teams_bench" "$bin" teams
echo
DATABASE_URL="sqlite://$scratch/audit.db?mode=rwc" "$bin" audit --iterations 20
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_audit_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_audit_bench" "$bin" audit --iterations 20

echo
DATABASE_URL="sqlite://$scratch/usage.db?mode=rwc" "$bin" usage --iterations 10
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_usage_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_usage_bench" "$bin" usage --iterations 10
echo
fi
if [ $only = all ] || [ $only = first-load ]; then
echo "browser bundle, target/site/pkg (bytes; the .br is what a browser downloads):"
total_br=0
shared_br=0
shared_raw=0
shared_files=0
for file in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  br=$(stat -c %s "$file.br")
  raw=$(stat -c %s "$file")
  total_br=$((total_br + br))
  name=$(basename "$file")
  case $name in
    # Pieces two or more lazy pages share, fetched with the first of them opened.
    chunk_*) shared_br=$((shared_br + br)); shared_raw=$((shared_raw + raw)); shared_files=$((shared_files + 1)) ;;
    # A lazy page's own piece: split___<page>_view_<id>.<hash>.wasm.
    split___*) printf '  %-40s %9d br %10d raw\n' "page: $(sed 's/^split___\(.*\)_view_.*/\1/' <<<"$name")" "$br" "$raw" ;;
    *) printf '  %-40s %9d br %10d raw\n' "$(sed 's/\.[A-Za-z0-9_-]\{22\}\././' <<<"$name")" "$br" "$raw" ;;
  esac
done
printf '  %-40s %9d br %10d raw\n' "shared pieces ($shared_files files)" "$shared_br" "$shared_raw"
printf '  %-40s %9d br\n' "all files" "$total_br"
echo
scripts/bundle-floor.sh
echo
db="sqlite://$scratch/first-load.db?mode=rwc"
seeded=$(DATABASE_URL="$db" "$tollgate" seed --users 5000 --teams 50)
email=$(sed -n 's/.* sign in as \([^ ]*\) with password .*/\1/p' <<<"$seeded")
password=$(sed -n 's/.* with password \(.*\)$/\1/p' <<<"$seeded")
port=$(shuf -i 20000-60000 -n 1)
DATABASE_URL="$db" TOLLGATE_LISTEN="127.0.0.1:$port" TOLLGATE_SITE_ROOT="$PWD/target/site" \
  "$tollgate" serve >"$scratch/first-load.log" 2>&1 &
server=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
(cd end2end && BASE="http://127.0.0.1:$port" EMAIL="$email" PASSWORD="$password" node tools/first-load.mjs)
echo
(cd end2end && BASE="http://127.0.0.1:$port" EMAIL="$email" PASSWORD="$password" PAGE=/dashboard \
  node tools/first-load.mjs)
kill $server; wait $server || true
echo
fi
[ $only = first-load ] && exit 0
# The gateway logs a line per request into a file of the benchmark's.
DATABASE_URL="sqlite://$scratch/gateway.db?mode=rwc" "$bin" gateway --tollgate "$tollgate"
echo
# The same with every limit set: key and member budgets, per-minute limits on the key and its
# team, and the key limited to its model.
DATABASE_URL="sqlite://$scratch/gateway-limited.db?mode=rwc" "$bin" gateway --tollgate "$tollgate" \
  --every-limit
echo
# A 1.6 KB conversation, through the gateway for a team no rule applies to and for one checked
# against 20 guardrails that do not match (every rule read to its end).
DATABASE_URL="sqlite://$scratch/gateway-guarded.db?mode=rwc" "$bin" gateway --tollgate "$tollgate" \
  --guardrails 20
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_gateway_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_gateway_bench" "$bin" gateway --tollgate "$tollgate"
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_gateway_limited_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_gateway_limited_bench" "$bin" gateway --tollgate "$tollgate" \
  --every-limit
echo
DATABASE_URL="sqlite://$scratch/access.db?mode=rwc" "$bin" access --tollgate "$tollgate"
echo
psql "$TOLLGATE_TEST_POSTGRES_URL" -qc "CREATE DATABASE tollgate_access_bench" >/dev/null
DATABASE_URL="$pg_base/tollgate_access_bench" "$bin" access --tollgate "$tollgate"

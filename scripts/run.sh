#!/usr/bin/env bash
# Installs what is missing, builds the release, and serves Tollgate on http://127.0.0.1:3000
# over the embedded SQLite database in data/. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
source scripts/env.sh

cargo leptos build --release --precompress --split
export TOLLGATE_SITE_ROOT="${TOLLGATE_SITE_ROOT:-$PWD/target/site}"
exec "$CARGO_TARGET_DIR/release/tollgate" serve

#!/usr/bin/env bash
# Installs what is missing, then runs every check and test: formatting (rustfmt, and leptosfmt
# for `view!` markup), unused dependencies (cargo-machete), clippy, unit and
# integration tests on SQLite and on a throwaway PostgreSQL, HTTP-level tests of the router, and
# Playwright end-to-end tests against the release binary in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
source scripts/env.sh
say() { printf '\n\033[1;34m[test]\033[0m %s\n' "$*"; }

say "formatting"
cargo fmt --all -- --check
# The benchmark of the framework's floor is a crate outside the workspace.
cargo fmt --manifest-path bench/bundle-floor/Cargo.toml -- --check
# The markup inside `view!` macros, which rustfmt leaves alone (settings in leptosfmt.toml).
leptosfmt --check app/src bench/bundle-floor/src

say "unused dependencies"
cargo machete

say "release build (server and WebAssembly)"
cargo leptos build --release --precompress --split

say "clippy"
cargo clippy --release -p domain -p app -p tollgate --features domain/ssr,app/ssr --all-targets -- -D warnings
cargo clippy --release -p frontend --target wasm32-unknown-unknown -- -D warnings

say "starting a throwaway PostgreSQL"
source scripts/postgres.sh
start_postgres
trap stop_postgres EXIT
# The domain tests fail, rather than skip, if PostgreSQL is missing.
export TOLLGATE_REQUIRE_POSTGRES=1
# Likewise the OpenAI SDK check, if the SDK (an end-to-end package) is missing.
export TOLLGATE_REQUIRE_CLIENTS=1

say "unit, integration and HTTP tests (SQLite and PostgreSQL)"
cargo test --release -p domain -p app -p tollgate --features domain/ssr,app/ssr

say "end-to-end tests (Playwright, Chromium)"
export TOLLGATE_BIN="$CARGO_TARGET_DIR/release/tollgate"
export TOLLGATE_SITE_ROOT="$PWD/target/site"
(cd end2end && npx playwright test)

#!/usr/bin/env bash
# Installs whatever is missing to build, run and test Tollgate, and nothing that is already
# there at the right version. Safe to run again and again. Debian, as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
# Checks scripts/test.sh runs: unused dependencies, and the formatting of `view!` macros.
CARGO_MACHETE_VERSION=0.9.2
LEPTOSFMT_VERSION=0.1.33
say() { printf '\033[1;34m[install]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v cargo >/dev/null || { echo "Rust (rustup, cargo) is required: https://rustup.rs" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

need_pkgs=()
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v node >/dev/null && command -v npm >/dev/null || need_pkgs+=(nodejs npm)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_pkgs[*]}"
  apt_install "${need_pkgs[@]}"
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 16 minutes on 2 cores, once per machine)"
  cargo install cargo-leptos@"$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

if [ "$(cargo machete --version 2>/dev/null)" != "$CARGO_MACHETE_VERSION" ]; then
  say "installing cargo-machete $CARGO_MACHETE_VERSION (about 2 minutes)"
  cargo install cargo-machete@"$CARGO_MACHETE_VERSION" --locked --force
fi
if [ "$(leptosfmt --version 2>/dev/null | awk '{print $2}')" != "$LEPTOSFMT_VERSION" ]; then
  say "installing leptosfmt $LEPTOSFMT_VERSION"
  cargo install leptosfmt@"$LEPTOSFMT_VERSION" --locked --force
fi

# The wasm-bindgen command must be exactly the library's version, which Cargo.lock pins.
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# Playwright and wasm-opt (npm binaryen; Debian's is too old) at the versions the lock file pins.
lock_sum=$(sha256sum end2end/package-lock.json | cut -d' ' -f1)
if [ "$(cat end2end/node_modules/.lock-sum 2>/dev/null)" != "$lock_sum" ]; then
  say "installing end-to-end test packages (npm ci)"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > end2end/node_modules/.lock-sum
fi

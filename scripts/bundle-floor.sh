#!/usr/bin/env bash
# The framework's floor: builds bench/bundle-floor — the smallest app on Tollgate's stack — the
# way cargo-leptos builds the real bundle (the wasm-release profile, type-erased components,
# wasm-bindgen, `wasm-opt -Oz`), once hydrated and once as one Leptos island, and prints each
# WebAssembly file's size raw and with brotli (quality 11). Beside them, the main file of the
# real bundle when target/site holds a release build, compressed the same way.
# Called by scripts/bench.sh (which installs the tools first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=$(mktemp -d /tmp/tollgate-bundle-floor.XXXXXX)
trap 'rm -rf "$out"' EXIT

sizes() { # label file...
  local label=$1; shift
  node -e '
    const zlib = require("zlib"), fs = require("fs");
    const [label, ...files] = process.argv.slice(1);
    let raw = 0, br = 0;
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      raw += bytes.length;
      br += zlib.brotliCompressSync(bytes, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 },
      }).length;
    }
    console.log(`  ${label.padEnd(48)} ${String(br).padStart(9)} br ${String(raw).padStart(10)} raw`);
  ' "$label" "$@"
}

echo "the framework's floor (bench/bundle-floor; WebAssembly after wasm-opt -Oz, bytes):"
for variant in hydrated islands; do
  features=()
  [ $variant = islands ] && features=(--features islands)
  (cd bench/bundle-floor && cargo build --locked --quiet --target wasm32-unknown-unknown \
    --profile wasm-release "${features[@]}")
  wasm-bindgen --target web --no-typescript --out-dir "$out/$variant" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/bundle_floor.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/$variant/bundle_floor_bg.wasm" -o "$out/$variant/floor.wasm"
  case $variant in
    hydrated) sizes "hydrated (router, title, resource, action)" "$out/$variant/floor.wasm" ;;
    islands) sizes "one island (resource, action; no router)" "$out/$variant/floor.wasm" ;;
  esac
done
main=$(ls target/site/pkg/tollgate.*.wasm 2>/dev/null | head -1 || true)
if [ -n "$main" ]; then
  sizes "Tollgate's main file (target/site)" "$main"
  sizes "Tollgate, every file of the bundle" target/site/pkg/*.wasm
fi

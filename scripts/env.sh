# Shared settings for the run and test scripts (sourced, not run).
# The build cache lives outside the checkout so fresh clones on this machine build in seconds;
# it is only a cache: an empty one gives the same result, slower.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tollgate/target}"
# npm's wasm-opt ahead of any other (Debian's binaryen breaks release builds).
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# cargo-leptos bakes this into the server at compile time; tests must see the same value so
# they reuse the release build instead of rebuilding the world.
export LEPTOS_OUTPUT_NAME=tollgate

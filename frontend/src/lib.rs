//! The browser entry point: hydrates the server-rendered console.

// Leptos views are deeply nested types; the users table needs more than the default 128.
#![recursion_limit = "512"]

/// Called by the generated JavaScript once the WebAssembly module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

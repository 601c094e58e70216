//! The browser entry point: hydrates the server-rendered console.

// Leptos views are deeply nested types; the users table needs more than the default 128.
#![recursion_limit = "512"]

/// Called by the generated JavaScript once the WebAssembly module has loaded. Each page is a
/// lazily loaded piece of the bundle, so hydration waits for the open page's piece (which the
/// server already asked the browser to fetch) and then marks the document hydrated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let root = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await;
        // The app lives as long as the page.
        root.forget();
        app::mark_hydrated();
    });
}

//! A read-only value with a Copy button: invite links and new API keys, shown once.

use leptos::prelude::*;

#[component]
pub fn CopyField(value: String, label: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let to_copy = value.clone();
    let copy = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&to_copy);
            copied.set(true);
        }
    };
    view! {
        <div class="copy-row">
            <input
                class="input mono"
                readonly
                value=value
                aria-label=label
                on:focus=|ev| {
                    if let Some(el) = leptos::wasm_bindgen::JsCast::dyn_ref::<
                        web_sys::HtmlInputElement,
                    >(&event_target::<web_sys::EventTarget>(&ev)) {
                        el.select();
                    }
                }
            />
            <button type="button" class="btn btn-ghost" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

//! The Tollgate mark and name.

use leptos::prelude::*;

/// The logo mark followed by the product name.
#[component]
pub fn Brand() -> impl IntoView {
    view! {
        <span class="brand">
            <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
                <rect x="2" y="9" width="20" height="4" rx="2" />
                <rect x="4" y="13" width="3" height="9" rx="1" />
                <rect x="17" y="13" width="3" height="9" rx="1" />
                <circle cx="12" cy="5" r="3" />
            </svg>
            <span class="brand-name">"Tollgate"</span>
        </span>
    }
}

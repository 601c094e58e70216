//! The not-found page.

use leptos::prelude::*;
use leptos_meta::Title;

/// Any path we do not know: a 404 with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="btn btn-primary btn-block" href="/dashboard">
                    "Go to the dashboard"
                </a>
            </div>
        </main>
    }
}

//! Pages whose features are still being built say so plainly, and the not-found page.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn ComingSoon(title: &'static str, summary: &'static str) -> impl IntoView {
    view! {
        <Title text=title/>
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">{summary}</p>
            </div>
        </div>
        <div class="empty-state">
            <p class="empty-state-title">"Coming soon"</p>
            <p class="muted">"This section is still being built, so there is nothing to show here yet."</p>
        </div>
    }
}

/// `/dashboard/configuration/teams`.
#[component]
pub fn TeamsPage() -> impl IntoView {
    view! { <ComingSoon title="Teams" summary="Groups of users with monthly spend limits that the gateway enforces."/> }
}

/// Any path we do not know: a 404 with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="btn btn-primary btn-block" href="/dashboard">"Go to the dashboard"</a>
            </div>
        </main>
    }
}

//! `/dashboard`: where the Access sections start.

use domain::dto::SessionUser;
use leptos::prelude::*;
use leptos_meta::Title;

/// The dashboard landing page: a way into each section.
#[component]
pub fn DashboardHome() -> impl IntoView {
    let user = use_context::<SessionUser>();
    let greeting = user.map(|u| format!("Signed in as {} ({}).", u.name, u.role.label()));
    view! {
        <Title text="Dashboard" />
        <div class="page-header">
            <div>
                <h1>"Access"</h1>
                <p class="muted">
                    "The users and teams that operate this gateway, and the keys they call models with. "
                    {greeting}
                </p>
            </div>
        </div>
        <div class="section-grid">
            <a class="section-card" href="/dashboard/configuration/users">
                <h2>"Users"</h2>
                <p>"Invite people, set their roles, suspend or remove access."</p>
            </a>
            <a class="section-card" href="/dashboard/configuration/teams">
                <h2>"Teams"</h2>
                <p>"Group users, set monthly spend limits, follow spend and requests."</p>
            </a>
            <a class="section-card" href="/dashboard/keys">
                <h2>"API keys"</h2>
                <p>"Issue and revoke the keys that call models through this gateway."</p>
            </a>
        </div>
    }
}

//! The dashboard frame. Without a live session it redirects to `/login?next=…`, on the server
//! (a 302 before any HTML) and in the browser alike.

use crate::auth::api::{SignOut, current_user};
use crate::components::{Brand, ToastRegion};
use crate::error::AppError;
use crate::url::encode_component;
use domain::Error;
use domain::dto::SessionUser;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

/// Loads the signed-in user before anything renders, then shows the frame around the page.
#[component]
pub fn DashboardLayout() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |()| current_user());
    let location = use_location();
    let login_url = move || {
        let here = format!(
            "{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked()
        );
        format!("/login?next={}", encode_component(&here))
    };
    view! {
        <Suspense fallback=|| {
            view! {
                <div class="loading-screen" aria-busy="true">
                    "Loading…"
                </div>
            }
        }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(user) => view! { <Frame user /> }.into_any(),
                    Err(AppError(Error::Unauthenticated)) => {
                        view! { <Redirect path=login_url() /> }.into_any()
                    }
                    Err(e) => {
                        view! {
                            <main class="auth-page">
                                <div class="auth-card">
                                    <h1>"Tollgate is unavailable"</h1>
                                    <div class="alert alert-error" role="alert">
                                        {e.to_string()}
                                    </div>
                                    <a class="btn btn-primary" href="/dashboard">
                                        "Try again"
                                    </a>
                                </div>
                            </main>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(user: SessionUser) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let initials: String = user
        .name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    let (name, role) = (user.name.clone(), user.role);
    let reads_audit = user.actor().can(domain::Action::ReadAudit);
    let manages_billing = user.actor().can(domain::Action::ManageBilling);
    let manages_sso = user.actor().can(domain::Action::ManageSso);
    provide_context(user);
    view! {
        <div class="app">
            <a class="skip-link" href="#content">
                "Skip to content"
            </a>
            <aside class="sidebar">
                <a class="sidebar-brand" href="/dashboard">
                    <Brand />
                </a>
                <nav class="nav" aria-label="Main">
                    <p class="nav-section">"Dashboards"</p>
                    <A href="/dashboard" exact=true attr:class="nav-link">
                        "Usage"
                    </A>
                    <p class="nav-section">"Configuration"</p>
                    <A href="/dashboard/configuration/users" attr:class="nav-link">
                        "Users"
                    </A>
                    <A href="/dashboard/configuration/teams" attr:class="nav-link">
                        "Teams"
                    </A>
                    {reads_audit
                        .then(|| {
                            view! {
                                <A href="/dashboard/configuration/audit" attr:class="nav-link">
                                    "Audit log"
                                </A>
                            }
                        })}
                    {manages_billing
                        .then(|| {
                            view! {
                                <A href=domain::billing::PAGE_PATH attr:class="nav-link">
                                    "Billing"
                                </A>
                            }
                        })}
                    {manages_sso
                        .then(|| {
                            view! {
                                <A href=domain::sso::PAGE_PATH attr:class="nav-link">
                                    "Single sign-on"
                                </A>
                            }
                        })}
                    <p class="nav-section">"Gateway"</p>
                    <A href="/dashboard/keys" attr:class="nav-link">
                        "API keys"
                    </A>
                    <A href="/dashboard/configuration/providers" attr:class="nav-link">
                        "Providers"
                    </A>
                    <A href="/dashboard/configuration/routes" attr:class="nav-link">
                        "Routes"
                    </A>
                    <A href="/dashboard/configuration/guardrails" attr:class="nav-link">
                        "Guardrails"
                    </A>
                </nav>
            </aside>
            <div class="main">
                <header class="topbar">
                    <div class="user-chip">
                        <span class="avatar" aria-hidden="true">
                            {initials}
                        </span>
                        <span class="user-chip-text">
                            <span class="user-name">{name}</span>
                            <span class=format!(
                                "role-badge role-{}",
                                role.as_str(),
                            )>{role.label()}</span>
                        </span>
                    </div>
                    <ActionForm action=sign_out>
                        <button
                            type="submit"
                            class="btn btn-ghost"
                            disabled=move || sign_out.pending().get()
                        >
                            "Sign out"
                        </button>
                    </ActionForm>
                </header>
                <main class="content" id="content">
                    <noscript>
                        <p class="alert alert-info noscript-note">
                            "JavaScript is off: lists, search, filters, sorting and paging work; changes (inviting, editing, deleting, issuing keys) need JavaScript."
                        </p>
                    </noscript>
                    <ToastRegion>
                        <Outlet />
                    </ToastRegion>
                </main>
            </div>
        </div>
    }
}

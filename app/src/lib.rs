//! Tollgate's user interface: the Leptos app (pages and components) and the typed server
//! functions the browser calls. Server function bodies are thin: who is asking → `domain`
//! service → typed error.

// Leptos views are deeply nested types; the users table needs more than the default 128.
#![recursion_limit = "512"]

pub mod audit;
pub mod auth;
pub mod billing;
pub mod bundle;
pub mod components;
pub mod error;
pub mod guardrails;
pub mod keys;
pub mod list_page;
pub mod pages;
pub mod providers;
pub mod routes;
pub mod shell;
pub mod sso;
pub mod teams;
mod url;
pub mod usage;
pub mod users;

/// Where the server functions are mounted: Leptos' default prefix, which every `#[server]` here
/// keeps (none names its own). The server routes this path to them; the request code tells a
/// scripted call by it.
pub const API_PREFIX: &str = "/api";

#[cfg(feature = "ssr")]
pub mod context;
#[cfg(feature = "ssr")]
pub mod request;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_context(bundle::Preloaded::default());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <bundle::BundleLinks options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The routes of the console.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let (routing, set_routing) = signal(false);
    view! {
        <Title formatter=|page: String| format!("{page} · Tollgate") />
        <Router set_is_routing=set_routing>
            <shell::RouteProgress loading=routing />
            <Routes fallback=shell::NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/dashboard" /> } />
                <Route path=path!("/login") view=auth::LoginPage ssr=SsrMode::Async />
                // Pages that load data render whole on the server (SsrMode::Async), so they work
                // with JavaScript off instead of streaming parts that only a script could place.
                <Route path=path!("/setup") view=pages::Setup::route() ssr=SsrMode::Async />
                <Route
                    path=path!("/invite/:token")
                    view=pages::AcceptInvite::route()
                    ssr=SsrMode::Async
                />
                <ParentRoute
                    path=path!("/dashboard")
                    view=shell::DashboardLayout
                    ssr=SsrMode::Async
                >
                    <Route path=path!("") view=usage::UsagePage ssr=SsrMode::Async />
                    <Route
                        path=path!("configuration/users")
                        view=users::UsersPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("configuration/teams")
                        view=pages::Teams::route()
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("configuration/audit")
                        view=pages::Audit::route()
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("configuration/billing")
                        view=pages::Billing::route()
                        ssr=SsrMode::Async
                    />
                    <Route path=path!("keys") view=pages::Keys::route() ssr=SsrMode::Async />
                    <Route
                        path=path!("configuration/providers")
                        view=pages::Providers::route()
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("configuration/routes")
                        view=pages::Routes::route()
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("configuration/guardrails")
                        view=pages::Guardrails::route()
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("configuration/sso")
                        view=pages::Sso::route()
                        ssr=SsrMode::Async
                    />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Marks the document once the app is interactive (the page's own piece of the bundle loaded
/// and hydrated too), so end-to-end tests and the first-load benchmark know when a click
/// reaches the hydrated app rather than the plain HTML form.
#[cfg(feature = "hydrate")]
pub fn mark_hydrated() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

#[cfg(test)]
mod tests {
    use super::API_PREFIX;
    use leptos::server_fn::ServerFn;

    /// Every server function keeps Leptos' default prefix, which [`API_PREFIX`] names.
    #[test]
    fn server_functions_are_mounted_under_the_api_prefix() {
        let paths = [
            <crate::auth::api::SignIn as ServerFn>::PATH,
            <crate::users::api::ListUsers as ServerFn>::PATH,
            <crate::teams::api::ListTeams as ServerFn>::PATH,
            <crate::keys::api::ListKeys as ServerFn>::PATH,
        ];
        for path in paths {
            assert!(
                path.strip_prefix(API_PREFIX)
                    .is_some_and(|rest| rest.starts_with('/')),
                "{path} is not under {API_PREFIX}"
            );
        }
        assert_eq!(
            <crate::users::api::ListUsers as ServerFn>::PATH,
            format!("{API_PREFIX}/list_users")
        );
    }
}

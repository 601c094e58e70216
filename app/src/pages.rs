//! The pages that load as their own pieces of the browser bundle: Teams, API keys, the
//! configuration pages an Admin or Owner opens now and then, and the one-time setup and invite
//! pages. The router loads
//! such a page's code the first time someone opens it (`cargo leptos build --split` cuts the
//! WebAssembly at these points), and when the server renders one it names the pieces it needs
//! in the page's `<head>` ([`crate::bundle::preload_pieces`]) so the browser fetches them beside
//! the main bundle.
//!
//! Sign-in, Usage (where signing in lands) and Users (the first page of Access) stay in the main
//! bundle: each lazy page adds requests on its first visit, and splitting those too cut the Users
//! page into over a hundred small files that cost more round trips than they saved bytes.
//! The server renders every page whole either way, so nothing changes without JavaScript.

use leptos::prelude::*;
use leptos_router::{Lazy, LazyRoute, lazy_route};

/// Declares `$route`, the lazily loaded route that shows `$page`. The page loads its own data,
/// so the route's data half is empty.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        impl $route {
            /// The route's view, for `<Route view=…>`.
            pub fn route() -> Lazy<Self> {
                Lazy::new()
            }
        }

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                #[cfg(feature = "ssr")]
                crate::bundle::preload_pieces(stringify!($route));
                $page().into_any()
            }
        }
    };
}

lazy_page!(
    /// `/setup`
    Setup => crate::auth::SetupPage
);
lazy_page!(
    /// `/invite/:token`
    AcceptInvite => crate::users::AcceptInvitePage
);
lazy_page!(Teams => crate::teams::TeamsPage);
lazy_page!(Keys => crate::keys::KeysPage);
lazy_page!(Audit => crate::audit::AuditPage);
lazy_page!(Billing => crate::billing::BillingPage);
lazy_page!(Providers => crate::providers::ProvidersPage);
lazy_page!(Routes => crate::routes::RoutesPage);
lazy_page!(Guardrails => crate::guardrails::GuardrailsPage);
lazy_page!(Sso => crate::sso::SsoPage);

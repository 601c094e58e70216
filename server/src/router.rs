//! The HTTP surface: Leptos pages and server functions, static files, `/healthz`, the security,
//! caching and compression layers around them and the request log. `app()` builds it for the
//! binary and for tests alike.

use crate::gateway::{self, GatewayState};
use crate::health;
use crate::security;
use crate::site::{self, Site};
use app::context::ServerContext;
use axum::Router;
use axum::extract::FromRef;
use axum::middleware;
use axum::routing::get;
use domain::db::DatabaseConnection;
use domain::service::access_epoch::AccessWatch;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tower_http::compression::CompressionLayer;

/// Everything the router's handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    pub server: ServerContext,
    /// The origin browsers use for this server (from the public URL), accepted on writes
    /// besides the request's own host.
    pub public_origin: Option<String>,
    /// The `/v1` request path.
    pub gateway: GatewayState,
    /// The built site: the bundle's names and `pkg/`.
    pub site: Site,
    /// Tells people of budget alerts (started by `serve`).
    pub alerts: crate::alerts::Notifier,
    /// Signs people in with the identity provider (`/auth/sso/…`).
    pub sso: std::sync::Arc<crate::sso::oidc::Oidc>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for DatabaseConnection {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let server = state.server.clone();
    let bundle = state.site.bundle.clone();
    let context = move || {
        provide_context(server.clone());
        provide_context(bundle.clone());
        security::provide_page_csp();
    };
    let options = state.leptos_options.clone();
    let shell = move || app::shell(options.clone());
    let gateway = gateway::routes(state.gateway.clone());
    let https = state.server.secure_cookies;
    Router::new()
        .route("/healthz", get(health::healthz))
        .merge(crate::sso::routes())
        .route(domain::audit::EXPORT_PATH, get(crate::export::audit_log))
        .route(domain::usage::EXPORT_PATH, get(crate::export::usage))
        .route(
            domain::billing::STATEMENT_CSV_PATH,
            get(crate::export::statement),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .merge(state.site.routes())
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context,
            app::shell,
        ))
        .layer(middleware::from_fn_with_state(
            state.public_origin.clone(),
            security::refuse_cross_site_writes,
        ))
        .layer(middleware::from_fn(security::headers))
        .layer(middleware::from_fn_with_state(
            state.server.trusted_proxies.clone(),
            security::client_addr,
        ))
        .layer(middleware::from_fn_with_state(
            (state.gateway.access.clone(), state.db.clone()),
            access_changes,
        ))
        .layer(middleware::from_fn(site::caching))
        // Pages and server-function answers; `pkg/` files come compressed from the build.
        .layer(CompressionLayer::new())
        .with_state(state)
        // Outside the browser layers: API clients send no cookies or origins, read no HTML.
        .merge(gateway)
        .layer(middleware::from_fn_with_state(
            https,
            security::strict_transport,
        ))
        // Outermost: one line per request, pages and API alike, with the status that went out.
        .layer(crate::logging::request_log())
}

/// A dashboard write may have suspended someone, revoked a key or changed a limit: before the
/// answer goes out, the access epoch (which the database's triggers move for exactly those
/// changes) is read once, so the next API request is checked against the change. Writes that
/// changed none of that leave the gateway's memory alone.
async fn access_changes(
    axum::extract::State((access, db)): axum::extract::State<(
        std::sync::Arc<AccessWatch>,
        DatabaseConnection,
    )>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let writes = !matches!(*request.method(), http::Method::GET | http::Method::HEAD);
    let response = next.run(request).await;
    // A write that failed changed nothing; one that succeeded answers 2xx, or 3xx when a form
    // posted without JavaScript is sent back to its page. (A read error here is left to the
    // poll, so nobody can flush the gateway's memory by tiring the database.)
    let succeeded = response.status().is_success() || response.status().is_redirection();
    if writes && succeeded {
        let _ = access.catch_up(&db).await;
    }
    response
}

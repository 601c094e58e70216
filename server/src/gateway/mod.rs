//! The OpenAI-compatible request path under `/v1`: key authentication, the hard cap (hold the
//! worst case, settle to the real cost once the upstream accepted, give back only what it never
//! accepted) and metering, in front of the upstream providers named in the providers file.

pub mod auth;
pub mod bound;
pub mod catalog;
pub mod chat;
pub mod error;
pub mod exchange;
pub mod guard;
pub mod models;
pub mod probe;
pub mod rates;
pub mod refused;
pub mod settlement;
pub mod stream;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use catalog::LiveCatalog;
use domain::db::DatabaseConnection;
use domain::sealing::Sealer;
use domain::service::access_epoch::AccessWatch;
use domain::service::key_cache::KeyCache;
use domain::service::ledger::Ledger;
use domain::service::rate_limiter::RateLimiter;
use std::sync::Arc;
use std::time::Duration;

/// What the gateway's handlers share.
#[derive(Clone, Debug)]
pub struct GatewayState {
    pub db: DatabaseConnection,
    /// The models on offer and their providers, as of the access epoch last seen.
    pub catalog: Arc<LiveCatalog>,
    /// Moves when access may have changed: a dashboard write here, or the database's epoch.
    pub access: Arc<AccessWatch>,
    /// Keys found usable, until `access` moves.
    pub keys: Arc<KeyCache>,
    /// Admission against the team's limit and metering, in memory and written behind.
    pub ledger: Ledger,
    /// Requests and tokens per minute, per key and team, in this process.
    pub rates: Arc<RateLimiter>,
    /// One pooled client for every upstream.
    pub http: reqwest::Client,
    /// The largest request body read, in bytes.
    pub max_body: usize,
    /// Upstream exchanges still running (a stopping server waits for them to settle).
    pub running: Arc<exchange::Running>,
}

/// The default for [`GatewayState::max_body`]: a long conversation with a few images inline.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

impl GatewayState {
    /// Starts the access watch (call inside the runtime); the database's routes are served
    /// through its providers (keys opened with `sealer`); `ledger` admits and meters.
    pub fn new(db: DatabaseConnection, sealer: Arc<Sealer>, ledger: Ledger) -> Self {
        let access = Arc::new(AccessWatch::default());
        access.watch(db.clone());
        let catalog = LiveCatalog::new(db.clone(), sealer, Arc::clone(&access));
        // Redirects are not followed: a provider answers where it was configured, or not at all.
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        GatewayState {
            ledger,
            rates: Arc::default(),
            keys: Arc::new(KeyCache::new(Arc::clone(&access))),
            access,
            db,
            catalog: Arc::new(catalog),
            http,
            max_body: MAX_BODY,
            running: Arc::default(),
        }
    }
}

/// The `/v1` routes.
pub fn routes(state: GatewayState) -> Router {
    Router::new()
        .route(
            "/v1/models",
            get(models::list).fallback(|m: Method, u: Uri| wrong_method(m, u, "GET")),
        )
        .route(
            "/v1/models/{*id}",
            get(models::retrieve).fallback(|m: Method, u: Uri| wrong_method(m, u, "GET")),
        )
        .route(
            "/v1/chat/completions",
            post(chat::completions).fallback(|m: Method, u: Uri| wrong_method(m, u, "POST")),
        )
        .route("/v1/{*rest}", any(no_such_path))
        // The handler reads the body itself, after the key, within `max_body`.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// A path under `/v1` the gateway does not serve.
async fn no_such_path(method: Method, uri: Uri) -> Response {
    error::ApiError::no_such_endpoint(&method, uri.path(), None).into_response()
}

/// A `/v1` path asked with a method it does not take (it takes `allow`).
async fn wrong_method(method: Method, uri: Uri, allow: &'static str) -> Response {
    error::ApiError::no_such_endpoint(&method, uri.path(), Some(allow)).into_response()
}

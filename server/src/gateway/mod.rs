//! The OpenAI-compatible request path under `/v1`: key authentication, the hard cap (reserve
//! the worst case, settle to the real cost, release on failure) and metering, in front of the
//! upstream providers named in the providers file.

pub mod auth;
pub mod catalog;
pub mod chat;
pub mod error;
pub mod models;
pub mod settlement;
pub mod stream;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use catalog::Catalog;
use domain::db::DatabaseConnection;
use domain::service::key_cache::KeyCache;
use domain::service::ledger::Ledger;
use std::sync::Arc;
use std::time::Duration;

/// What the gateway's handlers share.
#[derive(Clone, Debug)]
pub struct GatewayState {
    pub db: DatabaseConnection,
    pub catalog: Arc<Catalog>,
    /// Keys found usable, until the access epoch moves.
    pub keys: Arc<KeyCache>,
    /// Admission against the team's limit and metering, in memory and written behind.
    pub ledger: Ledger,
    /// One pooled client for every upstream.
    pub http: reqwest::Client,
}

/// The largest request body accepted (prompts with images run to megabytes).
const MAX_BODY: usize = 32 * 1024 * 1024;

impl GatewayState {
    /// Starts the ledger's writer: call inside the runtime.
    pub fn new(db: DatabaseConnection, catalog: Catalog) -> Self {
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .build()
            .unwrap_or_default();
        GatewayState {
            ledger: Ledger::start(db.clone()),
            keys: Arc::default(),
            db,
            catalog: Arc::new(catalog),
            http,
        }
    }
}

/// The `/v1` routes.
pub fn routes(state: GatewayState) -> Router {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/chat/completions", post(chat::completions))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

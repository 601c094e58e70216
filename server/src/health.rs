//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use axum::extract::State;
use axum::http::StatusCode;
use domain::db::DatabaseConnection;

/// The health check handler.
pub async fn healthz(State(db): State<DatabaseConnection>) -> (StatusCode, &'static str) {
    if domain::db::is_reachable(&db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

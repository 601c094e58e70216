//! `GET /dashboard/configuration/audit.csv`: the audit log entries a query matches, as a CSV
//! download — the page's filters in the same query string. A route of its own rather than a
//! server function, so a plain link downloads a file. Signed in as an Owner or Admin, or 401/403
//! in words. A browser asking from another site is refused: the export is heavy, and a page
//! elsewhere could otherwise make a signed-in Admin's browser run it again and again.

use crate::router::AppState;
use app::request::session_user;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use domain::audit::{AuditQuery, to_csv};
use domain::service::audit;
use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use std::collections::HashMap;

pub async fn download(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    // Browsers say where a request comes from; clients that do not (curl) are not browsers.
    let elsewhere = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| !matches!(site, "same-origin" | "none"));
    if elsewhere {
        return (
            StatusCode::FORBIDDEN,
            "Open the export from the audit log page.",
        )
            .into_response();
    }
    let query = AuditQuery::from_params(|k| params.get(k).cloned());
    let rows = match session_user(&state.server, &headers).await {
        Ok(me) => audit::export(&state.db, &me.actor(), &query).await,
        Err(e) => Err(e),
    };
    match rows {
        Ok(rows) => {
            let name = format!(
                "attachment; filename=\"tollgate-audit-{}.csv\"",
                chrono::Utc::now().format("%Y-%m-%d")
            );
            let mut response = to_csv(&rows).into_response();
            let h = response.headers_mut();
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(name) = HeaderValue::try_from(name) {
                h.insert(CONTENT_DISPOSITION, name);
            }
            h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            let status =
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, e.to_string()).into_response()
        }
    }
}

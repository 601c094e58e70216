//! CSV downloads of what a page shows, each a route of its own rather than a server function,
//! so a plain link downloads a file — the page's filters in the same query string:
//! - `GET /dashboard/configuration/audit.csv`: the audit log entries a query matches (Owners and
//!   Admins);
//! - `GET /dashboard/usage.csv`: the Usage page's table (whoever may read it, as much as they
//!   may see);
//! - `GET /dashboard/configuration/billing/statement.csv?month=2026-11`: a month's statement
//!   (Owners).
//!
//! Signed in, or 401/403 in words. A browser asking from another site is refused: an export is
//! heavy, and a page elsewhere could otherwise make a signed-in browser run it again and again.

use crate::router::AppState;
use app::request::session_user;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use domain::audit::AuditQuery;
use domain::billing::StatementMonth;
use domain::service::usage_report::{self, Rows};
use domain::service::{audit, billing};
use domain::usage::UsageQuery;
use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use std::collections::HashMap;

type Params = Query<HashMap<String, String>>;

/// The audit log entries the query matches.
pub async fn audit_log(
    State(state): State<AppState>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = from_elsewhere(&headers, "Open the export from the audit log page.") {
        return refused;
    }
    let query = AuditQuery::from_params(|k| params.get(k).cloned());
    let rows = match session_user(&state.server, &headers).await {
        Ok(me) => audit::export(&state.db, &me.actor(), &query).await,
        Err(e) => Err(e),
    };
    csv_download("audit", rows.map(|rows| domain::audit::to_csv(&rows)))
}

/// The Usage page's table for the query.
pub async fn usage(
    State(state): State<AppState>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = from_elsewhere(&headers, "Open the export from the Usage page.") {
        return refused;
    }
    let query = UsageQuery::from_params(|k| params.get(k).cloned());
    let report = match session_user(&state.server, &headers).await {
        Ok(me) => {
            usage_report::report(
                &state.db,
                &me.actor(),
                &query,
                chrono::Utc::now(),
                Rows::All,
            )
            .await
        }
        Err(e) => Err(e),
    };
    csv_download(
        "usage",
        report.map(|r| domain::usage::to_csv(&r, query.group)),
    )
}

/// A month's statement (`?month=2026-11`; this month when absent).
pub async fn statement(
    State(state): State<AppState>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = from_elsewhere(&headers, "Open the export from the Billing page.") {
        return refused;
    }
    let now = chrono::Utc::now();
    let month = match params.get("month") {
        None => StatementMonth::of(now.date_naive()),
        Some(text) => match StatementMonth::parse(text) {
            Some(month) => month,
            None => {
                let e = domain::Error::validation("month", "Ask for a month as 2026-11.");
                return csv_download("statement", Err(e));
            }
        },
    };
    let statement = match session_user(&state.server, &headers).await {
        Ok(me) => billing::statement(&state.db, &me.actor(), month, now).await,
        Err(e) => Err(e),
    };
    csv_download(
        &format!("statement-{}", month.as_param()),
        statement.map(|s| domain::billing::statement_csv(&s)),
    )
}

/// A refusal when the browser says the request comes from another site. Clients that do not
/// say (curl) are not browsers.
fn from_elsewhere(headers: &HeaderMap, message: &'static str) -> Option<Response> {
    let elsewhere = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| !matches!(site, "same-origin" | "none"));
    elsewhere.then(|| (StatusCode::FORBIDDEN, message).into_response())
}

/// `csv` as a download named `tollgate-{what}-{today}.csv` (a statement: `tollgate-{what}.csv`),
/// or the error in words.
fn csv_download(what: &str, csv: Result<String, domain::Error>) -> Response {
    match csv {
        Ok(csv) => {
            let name = if what.starts_with("statement-") {
                format!("attachment; filename=\"tollgate-{what}.csv\"")
            } else {
                format!(
                    "attachment; filename=\"tollgate-{what}-{}.csv\"",
                    chrono::Utc::now().format("%Y-%m-%d")
                )
            };
            let mut response = csv.into_response();
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

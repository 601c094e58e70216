//! Server functions for the Usage page. Bodies are thin: who is asking (`request::signed_in`)
//! → `domain` service.

use crate::error::AppError;
use domain::usage::{UsageQuery, UsageReport};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use {crate::request, domain::service::usage_report};

/// The Usage page's report for `query`, as much of it as the reader may see.
#[server(endpoint = "read_usage", input = Json)]
pub async fn read_usage(query: UsageQuery) -> Result<UsageReport, AppError> {
    request::signed_in(async |ctx, me| {
        let rows = usage_report::Rows::First(usage_report::ROWS_SHOWN);
        usage_report::report(&ctx.db, &me.actor(), &query, chrono::Utc::now(), rows).await
    })
    .await
}

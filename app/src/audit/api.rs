//! Server functions for the audit log page. Bodies are thin: who is asking
//! (`request::signed_in`) → `domain` service.

use crate::error::AppError;
use domain::audit::{AuditPage, AuditQuery};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use {crate::request, domain::service::audit};

/// One page of the audit log for `query`.
#[server(endpoint = "list_audit", input = Json)]
pub async fn list_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    request::signed_in(async |ctx, me| audit::list(&ctx.db, &me.actor(), &query).await).await
}

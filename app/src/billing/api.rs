//! Server functions for the Billing page (Owners only). Bodies are thin: who is asking
//! (`request::signed_in`) → `domain` service.

use crate::error::AppError;
use domain::billing::{BillingView, Settings, TestSent};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::request,
    domain::billing::{SettingsInput, StatementMonth},
    domain::service::billing,
};

/// The Billing page for `month` (`2026-11`; this month when absent or not a month).
#[server(endpoint = "read_billing")]
pub async fn read_billing(
    #[server(default)] month: Option<String>,
) -> Result<BillingView, AppError> {
    request::signed_in(async |ctx, me| {
        let month = month.as_deref().and_then(StatementMonth::parse);
        let mail = ctx.mailer.is_some();
        billing::view(&ctx.db, &me.actor(), month, chrono::Utc::now(), mail).await
    })
    .await
}

/// Saves the gateway-wide settings, as typed: amounts in dollars (blank is none), addresses
/// separated by commas or lines, the webhook's URL (blank is none).
#[server(endpoint = "save_billing")]
pub async fn save_billing(
    gateway_limit: String,
    team_default_limit: String,
    teamless_limit: String,
    alert_emails: String,
    webhook_url: String,
) -> Result<Settings, AppError> {
    let input = SettingsInput {
        gateway_limit,
        team_default_limit,
        teamless_limit,
        alert_emails,
        webhook_url,
    };
    request::signed_in(async |ctx, me| billing::save(&ctx.db, &me.actor(), &input).await).await
}

/// Sends a sample alert, marked as a test, to the saved recipients.
#[server(endpoint = "test_alerts")]
pub async fn test_alerts() -> Result<TestSent, AppError> {
    request::signed_in(async |ctx, me| {
        let (emails, webhook) = billing::test_recipients(&ctx.db, &me.actor()).await?;
        Ok(match &ctx.notifier {
            Some(notifier) => notifier.test_send(&emails, webhook.as_ref()).await,
            None => TestSent::default(),
        })
    })
    .await
}

/// Replaces the webhook's signing key.
#[server(endpoint = "rotate_webhook_key")]
pub async fn rotate_webhook_key() -> Result<(), AppError> {
    request::signed_in(async |ctx, me| billing::rotate_signing_key(&ctx.db, &me.actor()).await)
        .await
}

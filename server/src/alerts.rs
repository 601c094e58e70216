//! Budget alerts, told: every two seconds a task claims the alerts the metering noted
//! (`domain::service::alerts`) and sends each to the people an Owner named on the Billing page —
//! one email to every address (through the SMTP server of `TOLLGATE_SMTP_URL`), and a signed
//! JSON body to the webhook. Only the channel that failed is tried again.
//!
//! The webhook's body is signed like Stripe's: header `Tollgate-Signature: t=<unix
//! seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the signing key>`, so a receiver can
//! check it came from this gateway and is fresh.

use crate::mail::SmtpMailer;
use crate::startup_error::StartupError;
use app::context::Notifier as NotifierTrait;
use chrono::{DateTime, Utc};
use domain::billing::{StatementMonth, TestSent, month_label};
use domain::db::DatabaseConnection;
use domain::money::Money;
use domain::service::alerts::{self, Attempt, Due, Webhook};
use domain::service::leases::next_month;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// How often the alerts noted are looked for.
const EVERY: Duration = Duration::from_secs(2);
/// How long a webhook receiver has to answer.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest one alert's telling may take, whatever the mail server does (its timeout is per
/// exchange): well inside the claim (`domain::service::alerts`, 5 minutes), so no other process
/// claims an alert this one is still sending.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends alerts by email and webhook.
#[derive(Debug, Clone)]
pub struct Notifier {
    mailer: Option<SmtpMailer>,
    http: reqwest::Client,
    /// Where the dashboard is, for the links in the messages.
    public_url: String,
}

/// What one alert says, whichever way it is sent.
struct Told<'a> {
    id: String,
    test: bool,
    team: Option<(i64, &'a str)>,
    band: i32,
    spent: Money,
    limit: Money,
    month: StatementMonth,
    at: DateTime<Utc>,
}

impl Told<'_> {
    /// When the alert's month ends and the limit starts again (not from when it was noted, which
    /// a batch spanning midnight on the 1st can put in the next month).
    fn resets(&self) -> DateTime<Utc> {
        next_month(
            self.month
                .first_day()
                .and_time(chrono::NaiveTime::MIN)
                .and_utc(),
        )
    }
}

impl Notifier {
    /// # Errors
    /// [`StartupError::Mail`] when the HTTP client for webhooks cannot be made.
    pub fn new(mailer: Option<SmtpMailer>, public_url: String) -> Result<Self, StartupError> {
        // No redirects (the Owner named this URL), and a receiver that hangs is given up on.
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Tollgate budget alerts")
            .build()
            .map_err(|e| StartupError::Mail(format!("the webhook client: {e}")))?;
        Ok(Self {
            mailer,
            http,
            public_url,
        })
    }

    /// Claims and sends what is due, every [`EVERY`], for as long as the process runs.
    pub fn spawn(self, db: DatabaseConnection) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(e) = self.round(&db).await {
                    tracing::warn!("could not send budget alerts: {e}");
                }
            }
        });
    }

    async fn round(&self, db: &DatabaseConnection) -> Result<(), domain::Error> {
        for id in alerts::waiting(db, Utc::now()).await? {
            // Claimed one at a time, just before it is told: a slow receiver cannot make this
            // process hold alerts it has not reached yet past their claim.
            let Some(due) = alerts::claim(db, id, Utc::now()).await? else {
                continue;
            };
            let attempt = tokio::time::timeout(DELIVERY_TIMEOUT, self.deliver(&due))
                .await
                .unwrap_or_else(|_| Attempt {
                    mail: (!due.mailed && !due.emails.is_empty() && self.mailer.is_some())
                        .then(|| Err("the mail server took too long".to_owned())),
                    webhook: (!due.posted && due.webhook.is_some())
                        .then(|| Err("the webhook took too long".to_owned())),
                });
            tracing::info!(
                team = %due.team_name,
                band = due.band,
                mail = ?attempt.mail,
                webhook = ?attempt.webhook,
                "budget alert"
            );
            alerts::finish(db, &due, &attempt, Utc::now()).await?;
        }
        Ok(())
    }

    async fn deliver(&self, due: &Due) -> Attempt {
        let told = Told {
            id: format!("alert_{}", due.id),
            test: false,
            team: Some((due.team.0, &due.team_name)),
            band: due.band,
            spent: due.spent,
            limit: due.limit,
            month: StatementMonth(due.month),
            at: due.crossed_at,
        };
        let mail = if due.mailed {
            None
        } else {
            self.mail(&due.emails, &told).await
        };
        let webhook = match (&due.webhook, due.posted) {
            (Some(hook), false) => Some(self.post(hook, &told).await),
            _ => None,
        };
        Attempt { mail, webhook }
    }

    /// Emails `told` to `emails`; `None` when there is nobody to email or no mail server (the
    /// Billing page says so beside the addresses).
    async fn mail(&self, emails: &[String], told: &Told<'_>) -> Option<Result<(), String>> {
        let mailer = self.mailer.as_ref().filter(|_| !emails.is_empty())?;
        let (subject, body) = self.words(told);
        Some(mailer.send_text(emails, &subject, body).await)
    }

    /// Posts `told` to the webhook, signed; an answer other than 2xx is a failure.
    async fn post(&self, hook: &Webhook, told: &Told<'_>) -> Result<(), String> {
        let body = self.body(told).to_string();
        let now = Utc::now().timestamp();
        let answer = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("tollgate-signature", signature(&hook.secret, now, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "the webhook did not answer in time".to_owned()
                } else {
                    "the webhook could not be reached".to_owned()
                }
            })?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("the webhook answered {}", answer.status().as_u16()))
        }
    }

    /// The email's subject and text.
    fn words(&self, told: &Told<'_>) -> (String, String) {
        let team = told.team.map_or("Example team", |(_, name)| name);
        let test = if told.test { "[Test] " } else { "" };
        let month = month_label(told.month);
        let resets = told.resets().format("%-d %B %Y, 00:00 UTC");
        let (subject, what) = if told.band >= 100 {
            (
                format!("{test}Team ‘{team}’ has reached its monthly limit"),
                format!(
                    "Team ‘{team}’ has reached its monthly limit of {} for {month} (spent {}). \
                     The gateway refuses its requests until the limit resets on {resets}, \
                     or until an Owner or Admin raises it.",
                    told.limit, told.spent
                ),
            )
        } else {
            (
                format!(
                    "{test}Team ‘{team}’ has used {} % of its monthly limit",
                    told.band
                ),
                format!(
                    "Team ‘{team}’ has spent {} of its {} monthly limit for {month} — past {} %. \
                     At 100 % the gateway refuses its requests until the limit resets on {resets}.",
                    told.spent, told.limit, told.band
                ),
            )
        };
        let note = if told.test {
            "\n\nThis is a test sent from the Billing page; no team crossed anything."
        } else {
            ""
        };
        let body = format!(
            "{what}{note}\n\nUsage by team: {}/dashboard?group=team\n\
             You are told because an Owner added this address to the gateway's budget alerts.\n",
            self.public_url
        );
        (subject, body)
    }

    /// The webhook's JSON body.
    fn body(&self, told: &Told<'_>) -> serde_json::Value {
        let dollars = |m: Money| m.micros() as f64 / 1_000_000.0;
        json!({
            "id": told.id,
            "type": if told.test { "budget.test" } else { "budget.threshold_crossed" },
            "team": told.team.map(|(id, name)| json!({ "id": id, "name": name })),
            "threshold_percent": told.band,
            "month": told.month.as_param(),
            "spent_usd": dollars(told.spent),
            "limit_usd": dollars(told.limit),
            "crossed_at": told.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "resets_at": told.resets().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "dashboard_url": format!("{}/dashboard?group=team", self.public_url),
        })
    }
}

/// `t=<at>,v1=<hex HMAC-SHA256 of "<at>.<body>">`.
pub fn signature(secret: &str, at: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(format!("{at}.{body}").as_bytes());
    format!("t={at},v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl NotifierTrait for Notifier {
    fn test_send<'a>(
        &'a self,
        emails: &'a [String],
        webhook: Option<&'a Webhook>,
    ) -> Pin<Box<dyn Future<Output = TestSent> + Send + 'a>> {
        Box::pin(async move {
            let now = Utc::now();
            let told = Told {
                id: format!("test_{}", now.timestamp_millis()),
                test: true,
                team: None,
                band: 90,
                spent: Money(90_000_000),
                limit: Money(100_000_000),
                month: StatementMonth(now.format("%Y%m").to_string().parse().unwrap_or(0)),
                at: now,
            };
            TestSent {
                mail: self.mail(emails, &told).await,
                webhook: match webhook {
                    Some(hook) => Some(self.post(hook, &told).await),
                    None => None,
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // The value Python's hmac module computes for the same key and message.
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{\"a\":1}"),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }
}

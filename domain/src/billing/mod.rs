//! Billing (`/dashboard/configuration/billing`, Owners only): a month's statement — spend and
//! requests per team and per model, with the total — and the gateway-wide settings an Owner
//! manages: a monthly limit over the whole gateway, the limit proposed for new teams, the cap of
//! keys outside any team, and who is told when a team crosses 70, 90 and 100 % of its limit.

mod csv;
mod month;
mod settings;

pub use csv::statement_csv;
pub use month::{StatementMonth, month_label};
pub use settings::{MAX_EMAILS, Settings, SettingsInput, email_list};

use crate::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The page's path.
pub const PAGE_PATH: &str = "/dashboard/configuration/billing";
/// A month's statement as CSV: `?month=2026-11`.
pub const STATEMENT_CSV_PATH: &str = "/dashboard/configuration/billing/statement.csv";

/// One line of a statement: a team's (or a model's) month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub label: String,
    /// The team was deleted since (its line keeps its name).
    pub departed: bool,
    pub spend: Money,
    pub requests: i64,
}

/// A month's spend and requests per team and per model. Both tables add up to `total`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub month: StatementMonth,
    /// Teams by spend, largest first, then "Keys outside any team" when they spent anything.
    pub teams: Vec<StatementLine>,
    pub models: Vec<StatementLine>,
    pub total: StatementLine,
    /// The month is still running: its figures grow.
    pub current: bool,
}

/// A band a team crossed, and how telling it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub team: String,
    pub band: i32,
    pub spent: Money,
    pub limit: Money,
    pub crossed_at: DateTime<Utc>,
    pub told: Told,
}

/// Where telling an alert stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Told {
    /// Not tried yet.
    Waiting,
    /// The last attempt failed, for this reason; it is tried again.
    Retrying(String),
    /// Every address and the webhook took it, at this moment.
    Sent(DateTime<Utc>),
    /// No address (or no mail server) and no webhook were set.
    Nobody,
    /// A higher band was reached at the same moment and told instead.
    Covered,
    /// It kept failing, for this reason, and was given up.
    GaveUp(String),
}

/// A gateway-wide cap with this month's spend against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapNow {
    pub limit: Option<Money>,
    pub spent: Money,
}

/// What the Billing page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingView {
    pub settings: Settings,
    /// The webhook's signing key, shown to Owners so their receiver can check signatures.
    pub webhook_secret: Option<String>,
    pub gateway: CapNow,
    pub teamless: CapNow,
    pub statement: Statement,
    /// Months with any usage, newest first (the current month always).
    pub months: Vec<StatementMonth>,
    /// The latest alerts, newest first.
    pub alerts: Vec<AlertRow>,
    /// Bands told (or to tell) this month, over all teams.
    pub alerts_this_month: u64,
    /// Whether the server can send email (`TOLLGATE_SMTP_URL`).
    pub mail_configured: bool,
    /// When the server read it ("3 min ago" is measured from it).
    pub generated_at: DateTime<Utc>,
}

/// What a test-send reached, per channel: `None` when the channel is not set up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSent {
    pub mail: Option<Result<(), String>>,
    pub webhook: Option<Result<(), String>>,
}

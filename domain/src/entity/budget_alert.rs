//! `budget_alerts`: a team that crossed a band of its monthly limit (70, 90 or 100 %) — one row
//! per team, month, limit and band (a unique index), so each band is told once — and whether
//! the people to tell have been told.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub team_id: i64,
    /// `year * 100 + month`.
    pub month: i32,
    /// The percentage crossed: 70, 90 or 100.
    pub band: i32,
    /// The team's spend and limit when it crossed.
    pub spent_micros: i64,
    pub limit_micros: i64,
    pub crossed_at: DateTimeUtc,
    /// When it was delivered (or found nobody to tell); `None` while it waits.
    pub sent_at: Option<DateTimeUtc>,
    /// When the email went, and when the webhook took it: a retry sends only what failed.
    pub mailed_at: Option<DateTimeUtc>,
    pub posted_at: Option<DateTimeUtc>,
    /// When a process may next try it; a process trying it moves this forward first (its claim).
    pub next_attempt_at: DateTimeUtc,
    /// How it ended; `None` while it waits.
    pub outcome: Option<Outcome>,
    pub attempts: i32,
    /// Why the last attempt failed, in words for the Billing page.
    pub last_error: String,
}

/// How an alert ended, stored as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Outcome {
    /// Every channel set up took it.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// No address and no webhook were set (or no mail server for the addresses).
    #[sea_orm(string_value = "nobody")]
    Nobody,
    /// A higher band was reached at the same time and told instead.
    #[sea_orm(string_value = "covered")]
    Covered,
    /// It kept failing; given up after the last attempt.
    #[sea_orm(string_value = "gave_up")]
    GaveUp,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Budget alerts: a team crossing 70, 90 or 100 % of its monthly limit is noted once per band and
//! month, and the server tells the people an Owner named on the Billing page — by email and by
//! a signed webhook.
//!
//! - **Noted** in the metering's own transaction ([`note_crossings`], from
//!   [`crate::service::usage::record_all`]): the touched teams' month rows against their limits,
//!   one `budget_alerts` row per band reached. The unique (team, month, band) index is what
//!   makes a band told once, however many processes meter the team. A hard cap stops spend
//!   short of the limit, so 100 % is also noted when a request is first refused by the team's
//!   budget ([`note_refused`], from the refusals' write).
//! - **Delivered** by the server ([`claim_due`] then [`finish`]): a process claims an alert by
//!   moving its next attempt forward in one conditional `UPDATE`, so two processes never both
//!   send it; what failed is tried again later, and only the channel that failed.

use crate::budget::alert_bands_reached;
use crate::entity::{budget_alert, gateway_setting, team, usage_team_month};
use crate::money::Money;
use crate::{Error, TeamId};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::HashSet;

/// How long a claimed alert is left to its process before another may try it.
const CLAIM_FOR: Duration = Duration::minutes(5);
/// The most alerts one delivery round takes.
const ROUND: u64 = 50;

/// Notes the bands reached by `team_months` — (team, month) pairs whose spend just grew — in
/// the transaction that grew it.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn note_crossings(
    conn: &impl ConnectionTrait,
    team_months: &[(i64, i32)],
    at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let (Some(at), false) = (at, team_months.is_empty()) else {
        return Ok(());
    };
    let ids: HashSet<i64> = team_months.iter().map(|(t, _)| *t).collect();
    let limits: Vec<(i64, String, i64)> = team::Entity::find()
        .select_only()
        .column(team::Column::Id)
        .column(team::Column::Name)
        .column(team::Column::MonthlyLimitMicros)
        .filter(team::Column::Id.is_in(ids))
        .filter(team::Column::MonthlyLimitMicros.gt(0))
        .into_tuple()
        .all(conn)
        .await?;
    for (team_id, _, limit) in limits {
        for &(_, month) in team_months.iter().filter(|(t, _)| *t == team_id) {
            let spent = usage_team_month::Entity::find_by_id((team_id, month))
                .one(conn)
                .await?
                .map_or(0, |m| m.spend_micros);
            for band in alert_bands_reached(Money(spent), Money(limit)) {
                note(conn, team_id, month, band, spent, limit, at).await?;
            }
        }
    }
    Ok(())
}

/// Notes 100 % for teams whose budget refused a request in `month`: a hard cap keeps the spend
/// itself below the limit.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn note_refused(
    conn: &impl ConnectionTrait,
    refused: &[(TeamId, i32)],
    at: DateTime<Utc>,
) -> Result<(), Error> {
    for &(team_id, month) in refused {
        let Some(limit) = team::Entity::find_by_id(team_id.0)
            .one(conn)
            .await?
            .and_then(|t| t.monthly_limit_micros)
        else {
            continue;
        };
        let spent = usage_team_month::Entity::find_by_id((team_id.0, month))
            .one(conn)
            .await?
            .map_or(0, |m| m.spend_micros);
        note(conn, team_id.0, month, 100, spent, limit, at).await?;
    }
    Ok(())
}

/// One band of one team's month, noted unless it already is.
async fn note(
    conn: &impl ConnectionTrait,
    team_id: i64,
    month: i32,
    band: i32,
    spent: i64,
    limit: i64,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let already = budget_alert::Entity::find()
        .filter(budget_alert::Column::TeamId.eq(team_id))
        .filter(budget_alert::Column::Month.eq(month))
        .filter(budget_alert::Column::Band.eq(band))
        .one(conn)
        .await?;
    if already.is_some() {
        return Ok(());
    }
    budget_alert::Entity::insert(budget_alert::ActiveModel {
        team_id: Set(team_id),
        month: Set(month),
        band: Set(band),
        spent_micros: Set(spent),
        limit_micros: Set(limit),
        crossed_at: Set(at),
        sent_at: Set(None),
        mailed_at: Set(None),
        posted_at: Set(None),
        next_attempt_at: Set(at),
        attempts: Set(0),
        last_error: Set(String::new()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        budget_alert::Column::TeamId,
        budget_alert::Column::Month,
        budget_alert::Column::Band,
    ])
    .exec(conn)
    .await?;
    Ok(())
}

/// An alert to deliver, with what its messages say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: i64,
    pub team: TeamId,
    /// The team's name now (or its id, when it is gone).
    pub team_name: String,
    pub month: i32,
    pub band: i32,
    pub spent: Money,
    pub limit: Money,
    pub crossed_at: DateTime<Utc>,
    /// Whom to tell, as the Billing page says now.
    pub emails: Vec<String>,
    pub webhook: Option<Webhook>,
    /// Already delivered by email (a retry posts only the webhook), and the other way round.
    pub mailed: bool,
    pub posted: bool,
}

/// Where the webhook goes and the key its signature is made with.
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The recipients an Owner set: addresses and the webhook.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn recipients(
    conn: &impl ConnectionTrait,
) -> Result<(Vec<String>, Option<Webhook>), Error> {
    let settings = gateway_setting::Entity::find_by_id(gateway_setting::ROW)
        .one(conn)
        .await?;
    Ok(settings.map_or((Vec::new(), None), |s| {
        let emails = crate::billing::email_list(&s.alert_emails);
        let webhook = match (s.webhook_url, s.webhook_secret) {
            (Some(url), Some(secret)) if !url.is_empty() => Some(Webhook { url, secret }),
            _ => None,
        };
        (emails, webhook)
    }))
}

/// Claims the alerts due at `now` for this process: each is this process's to send until
/// [`finish`]ed (or, should it die, for [`CLAIM_FOR`]).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn claim_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<Due>, Error> {
    let waiting = budget_alert::Entity::find()
        .filter(budget_alert::Column::SentAt.is_null())
        .filter(budget_alert::Column::NextAttemptAt.lte(now))
        .order_by_asc(budget_alert::Column::Id)
        .limit(ROUND)
        .all(db)
        .await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let (emails, webhook) = recipients(db).await?;
    let mut due = Vec::with_capacity(waiting.len());
    for alert in waiting {
        let claimed = budget_alert::Entity::update_many()
            .col_expr(
                budget_alert::Column::NextAttemptAt,
                Expr::value(now + CLAIM_FOR),
            )
            .filter(budget_alert::Column::Id.eq(alert.id))
            .filter(budget_alert::Column::SentAt.is_null())
            .filter(budget_alert::Column::NextAttemptAt.eq(alert.next_attempt_at))
            .exec(db)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        let team_name = team::Entity::find_by_id(alert.team_id)
            .one(db)
            .await?
            .map_or_else(|| format!("team #{}", alert.team_id), |t| t.name);
        due.push(Due {
            id: alert.id,
            team: TeamId(alert.team_id),
            team_name,
            month: alert.month,
            band: alert.band,
            spent: Money(alert.spent_micros),
            limit: Money(alert.limit_micros),
            crossed_at: alert.crossed_at,
            emails: emails.clone(),
            webhook: webhook.clone(),
            mailed: alert.mailed_at.is_some(),
            posted: alert.posted_at.is_some(),
        });
    }
    Ok(due)
}

/// How one delivery attempt went, per channel: `None` when the channel was not tried (not
/// configured, or already done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempt {
    pub mail: Option<Result<(), String>>,
    pub webhook: Option<Result<(), String>>,
}

/// Records `attempt` for alert `id`: delivered when every channel tried succeeded, else tried
/// again later (after 30 s, doubling to an hour), sending only what failed.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn finish(
    db: &DatabaseConnection,
    id: i64,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(alert) = budget_alert::Entity::find_by_id(id).one(db).await? else {
        return Ok(());
    };
    let errors: Vec<&str> = [&attempt.mail, &attempt.webhook]
        .into_iter()
        .filter_map(|r| r.as_ref().and_then(|r| r.as_ref().err()))
        .map(String::as_str)
        .collect();
    let mut update = budget_alert::ActiveModel {
        id: Set(id),
        attempts: Set(alert.attempts + 1),
        last_error: Set(errors.join("; ")),
        ..Default::default()
    };
    if matches!(attempt.mail, Some(Ok(()))) {
        update.mailed_at = Set(Some(now));
    }
    if matches!(attempt.webhook, Some(Ok(()))) {
        update.posted_at = Set(Some(now));
    }
    if errors.is_empty() {
        update.sent_at = Set(Some(now));
    } else {
        let wait = 30_i64 << Ord::min(alert.attempts, 7);
        update.next_attempt_at = Set(now + Duration::seconds(Ord::min(wait, 3_600)));
    }
    budget_alert::Entity::update(update).exec(db).await?;
    Ok(())
}

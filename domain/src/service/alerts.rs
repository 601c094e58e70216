//! Budget alerts: a team crossing 70, 90 or 100 % of its monthly limit is noted once per band and
//! month, and the server tells the people an Owner named on the Billing page — by email and by
//! a signed webhook.
//!
//! - **Noted** in the metering's own transaction ([`note_crossings`], from
//!   [`crate::service::usage::record_all`]): the touched teams' month rows against their limits,
//!   one `budget_alerts` row per band reached. The unique (team, month, limit, band) index is
//!   what makes a band told once, however many processes meter the team — and told again only
//!   when the limit changes. Spend jumping past several bands at once tells the highest (the
//!   others are noted as covered). A hard cap stops spend just short of the limit, so 100 % is
//!   also noted when the team's budget refuses a request once it has spent 90 % of its limit
//!   ([`note_refused`], from the refusals' write).
//! - **Delivered** by the server ([`waiting`], then [`claim`] and [`finish`] one by one): a
//!   process claims an alert just before telling it, by moving its next attempt forward in one
//!   conditional `UPDATE`, so two processes never both send it, and records the outcome only
//!   while its claim stands; what failed is tried again later, only the channel that failed, up
//!   to [`MAX_ATTEMPTS`]. A process killed between sending and recording sends it again after
//!   the claim runs out: delivery is at least once, and each message carries the alert's id.

use crate::budget::{ALERT_BANDS, alert_bands_reached};
use crate::entity::budget_alert::Outcome;
use crate::entity::{budget_alert, gateway_setting, team, usage_team_month};
use crate::money::Money;
use crate::service::usage_report::names;
use crate::{Error, TeamId};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use std::collections::{HashMap, HashSet};

/// How long a claimed alert is left to its process before another may try it: far more than
/// one delivery takes (a 10 s mail server and a 10 s webhook).
const CLAIM_FOR: Duration = Duration::minutes(5);
/// The most alerts one delivery round looks at.
const ROUND: u64 = 50;
/// Attempts before an alert is given up.
pub const MAX_ATTEMPTS: i32 = 10;
/// A refusal by the team's budget counts as reaching 100 % once the team has spent at least this
/// share of its limit — already in the last band: a hard cap stops spend short of the limit (by
/// up to a request's worst case), but a single large request refused far from it says nothing
/// about the team.
const REFUSED_AT_PERCENT: i128 = 90;

/// Notes the bands reached by `team_months` — (team, month) pairs whose spend just grew — in
/// the transaction that grew it: three reads for the whole batch, a write only for a band not
/// noted yet.
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
    let facts = Facts::read(conn, team_months).await?;
    for &(team_id, month) in team_months {
        let Some(&limit) = facts.limits.get(&team_id) else {
            continue;
        };
        let spent = facts.spent(team_id, month);
        let reached: Vec<i32> = alert_bands_reached(Money(spent), Money(limit)).collect();
        let new: Vec<i32> = reached
            .into_iter()
            .filter(|band| !facts.noted(team_id, month, limit, *band))
            .collect();
        note(conn, (team_id, month), limit, spent, &new, at).await?;
    }
    Ok(())
}

/// Notes 100 % for teams whose budget refused a request in `month` while they had spent at
/// least [`REFUSED_AT_PERCENT`] of their limit: a hard cap keeps the spend itself below.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn note_refused(
    conn: &impl ConnectionTrait,
    refused: &[(TeamId, i32)],
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let team_months: Vec<(i64, i32)> = refused.iter().map(|(t, m)| (t.0, *m)).collect();
    if team_months.is_empty() {
        return Ok(());
    }
    let facts = Facts::read(conn, &team_months).await?;
    for &(team_id, month) in &team_months {
        let Some(&limit) = facts.limits.get(&team_id) else {
            continue;
        };
        let spent = facts.spent(team_id, month);
        if i128::from(spent) * 100 < i128::from(limit) * REFUSED_AT_PERCENT {
            continue;
        }
        let new: Vec<i32> = ALERT_BANDS
            .into_iter()
            .filter(|band| !facts.noted(team_id, month, limit, *band))
            .collect();
        note(conn, (team_id, month), limit, spent, &new, at).await?;
    }
    Ok(())
}

/// What noting needs of a batch's teams: their limits now, their months' spend, the bands
/// already noted.
struct Facts {
    limits: HashMap<i64, i64>,
    spent: HashMap<(i64, i32), i64>,
    noted: HashSet<(i64, i32, i64, i32)>,
}

impl Facts {
    async fn read(conn: &impl ConnectionTrait, team_months: &[(i64, i32)]) -> Result<Self, Error> {
        let ids: HashSet<i64> = team_months.iter().map(|(t, _)| *t).collect();
        let months: HashSet<i32> = team_months.iter().map(|(_, m)| *m).collect();
        let limits: HashMap<i64, i64> = team::Entity::find()
            .select_only()
            .column(team::Column::Id)
            .column(team::Column::MonthlyLimitMicros)
            .filter(team::Column::Id.is_in(ids.iter().copied()))
            // A limit of $0 too: such a team is told 100 % when its first request is refused.
            .filter(team::Column::MonthlyLimitMicros.gte(0))
            .into_tuple::<(i64, i64)>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let limited: Vec<i64> = limits.keys().copied().collect();
        if limited.is_empty() {
            return Ok(Self {
                limits,
                spent: HashMap::new(),
                noted: HashSet::new(),
            });
        }
        let spent = usage_team_month::Entity::find()
            .filter(usage_team_month::Column::TeamId.is_in(limited.iter().copied()))
            .filter(usage_team_month::Column::Month.is_in(months.iter().copied()))
            .all(conn)
            .await?
            .into_iter()
            .map(|m| ((m.team_id, m.month), m.spend_micros))
            .collect();
        let noted = budget_alert::Entity::find()
            .filter(budget_alert::Column::TeamId.is_in(limited))
            .filter(budget_alert::Column::Month.is_in(months))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.team_id, a.month, a.limit_micros, a.band))
            .collect();
        Ok(Self {
            limits,
            spent,
            noted,
        })
    }

    fn spent(&self, team: i64, month: i32) -> i64 {
        self.spent.get(&(team, month)).copied().unwrap_or(0)
    }

    fn noted(&self, team: i64, month: i32, limit: i64, band: i32) -> bool {
        self.noted.contains(&(team, month, limit, band))
    }
}

/// Notes `bands` (newly reached, lowest first) of one team's month: the highest is told, the
/// ones below it are covered by it — one message when spend jumps past several bands at once.
async fn note(
    conn: &impl ConnectionTrait,
    (team_id, month): (i64, i32),
    limit: i64,
    spent: i64,
    bands: &[i32],
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let Some((&told, covered)) = bands.split_last() else {
        return Ok(());
    };
    let rows = covered
        .iter()
        .map(|band| (*band, Some(Outcome::Covered)))
        .chain(std::iter::once((told, None)))
        .map(|(band, outcome)| budget_alert::ActiveModel {
            team_id: Set(team_id),
            month: Set(month),
            band: Set(band),
            spent_micros: Set(spent),
            limit_micros: Set(limit),
            crossed_at: Set(at),
            sent_at: Set(outcome.map(|_| at)),
            mailed_at: Set(None),
            posted_at: Set(None),
            next_attempt_at: Set(at),
            outcome: Set(outcome),
            attempts: Set(0),
            last_error: Set(String::new()),
            ..Default::default()
        });
    // Another process noting the same band at the same moment: its row stands, this one not.
    budget_alert::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            budget_alert::Column::TeamId,
            budget_alert::Column::Month,
            budget_alert::Column::LimitMicros,
            budget_alert::Column::Band,
        ])
        .exec(conn)
        .await?;
    Ok(())
}

/// Drops the alerts of `team` (every team when `None`) not told yet: it is being deleted, in the
/// same transaction, and a team that is gone is not news.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn drop_untold(conn: &impl ConnectionTrait, team: Option<TeamId>) -> Result<(), Error> {
    let mut untold = budget_alert::Entity::update_many()
        .col_expr(
            budget_alert::Column::SentAt,
            Expr::value(chrono::Utc::now()),
        )
        .col_expr(budget_alert::Column::Outcome, Expr::value(Outcome::Nobody))
        .filter(budget_alert::Column::SentAt.is_null());
    if let Some(team) = team {
        untold = untold.filter(budget_alert::Column::TeamId.eq(team.0));
    }
    untold.exec(conn).await?;
    Ok(())
}

/// An alert to deliver, with what its messages say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub id: i64,
    /// Until when this process holds it: [`finish`] records nothing once it has passed.
    pub claim: DateTime<Utc>,
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

/// The alerts waiting to be told at `now`, oldest first (at most a round's).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn waiting(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<i64>, Error> {
    Ok(budget_alert::Entity::find()
        .select_only()
        .column(budget_alert::Column::Id)
        .filter(budget_alert::Column::SentAt.is_null())
        .filter(budget_alert::Column::NextAttemptAt.lte(now))
        .order_by_asc(budget_alert::Column::Id)
        .limit(ROUND)
        .into_tuple()
        .all(db)
        .await?)
}

/// Claims alert `id` for this process, just before telling it: `None` when another process
/// has it or it is done. The claim lasts [`CLAIM_FOR`]; only [`finish`] with the same claim
/// records its outcome.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn claim(
    db: &DatabaseConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Due>, Error> {
    let claim = now + CLAIM_FOR;
    let claimed = budget_alert::Entity::update_many()
        .col_expr(budget_alert::Column::NextAttemptAt, Expr::value(claim))
        .filter(budget_alert::Column::Id.eq(id))
        .filter(budget_alert::Column::SentAt.is_null())
        .filter(budget_alert::Column::NextAttemptAt.lte(now))
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    let Some(alert) = budget_alert::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let (emails, webhook) = recipients(db).await?;
    let team_name = names::teams(db, &[alert.team_id])
        .await?
        .remove(&alert.team_id)
        .unwrap_or_else(|| format!("Team #{}", alert.team_id));
    Ok(Some(Due {
        id: alert.id,
        claim,
        team: TeamId(alert.team_id),
        team_name,
        month: alert.month,
        band: alert.band,
        spent: Money(alert.spent_micros),
        limit: Money(alert.limit_micros),
        crossed_at: alert.crossed_at,
        emails,
        webhook,
        mailed: alert.mailed_at.is_some(),
        posted: alert.posted_at.is_some(),
    }))
}

/// How one delivery attempt went, per channel: `None` when the channel was not tried (not
/// set up, or already done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempt {
    pub mail: Option<Result<(), String>>,
    pub webhook: Option<Result<(), String>>,
}

/// Records `attempt` for `due`, while this process's claim on it stands: told when every
/// channel tried succeeded (nobody to tell when none was), else tried again later — after 30 s,
/// doubling to an hour, sending only what failed — until [`MAX_ATTEMPTS`].
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn finish(
    db: &DatabaseConnection,
    due: &Due,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(alert) = budget_alert::Entity::find_by_id(due.id).one(db).await? else {
        return Ok(());
    };
    let errors: Vec<&str> = [&attempt.mail, &attempt.webhook]
        .into_iter()
        .filter_map(|r| r.as_ref().and_then(|r| r.as_ref().err()))
        .map(String::as_str)
        .collect();
    let tried = alert.attempts + 1;
    let mut update = budget_alert::ActiveModel {
        attempts: Set(tried),
        last_error: Set(errors.join("; ")),
        ..Default::default()
    };
    if matches!(attempt.mail, Some(Ok(()))) {
        update.mailed_at = Set(Some(now));
    }
    if matches!(attempt.webhook, Some(Ok(()))) {
        update.posted_at = Set(Some(now));
    }
    let told = alert.mailed_at.is_some()
        || alert.posted_at.is_some()
        || matches!(attempt.mail, Some(Ok(())))
        || matches!(attempt.webhook, Some(Ok(())));
    let ended = if !errors.is_empty() && tried < MAX_ATTEMPTS {
        let wait = 30_i64 << Ord::min(alert.attempts, 7);
        update.next_attempt_at = Set(now + Duration::seconds(Ord::min(wait, 3_600)));
        None
    } else if !errors.is_empty() {
        Some(Outcome::GaveUp)
    } else if told {
        Some(Outcome::Sent)
    } else {
        Some(Outcome::Nobody)
    };
    if let Some(outcome) = ended {
        update.sent_at = Set(Some(now));
        update.outcome = Set(Some(outcome));
    }
    // Only while the claim stands: a process whose claim ran out records nothing.
    budget_alert::Entity::update_many()
        .set(update)
        .filter(budget_alert::Column::Id.eq(due.id))
        .filter(budget_alert::Column::NextAttemptAt.eq(due.claim))
        .filter(budget_alert::Column::SentAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

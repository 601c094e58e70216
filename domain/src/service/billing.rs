//! Billing, for Owners: the gateway-wide settings (limits and who is alerted) and a month's
//! statement, read from the month rows the metering keeps (`usage_team_months`,
//! `usage_gateway_months`) and the day rows per model (`usage_model_days`).

use crate::Error;
use crate::billing::{
    AlertRow, BillingView, CapNow, Settings, SettingsInput, Statement, StatementLine,
    StatementMonth, Told, email_list,
};
use crate::entity::budget_alert::Outcome;
use crate::entity::usage_gateway_month::Scope;
use crate::entity::usage_team_month;
use crate::entity::{budget_alert, gateway_setting, usage_gateway_month, usage_model_day};
use crate::money::Money;
use crate::permission::{Action, Actor};
use crate::secret::Secret;
use crate::service::usage_report::names;
use crate::service::{audit, begin_as, day_key, month_key};
use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use std::collections::HashMap;

/// How many of the latest alerts the page lists.
const ALERTS_SHOWN: u64 = 20;

/// The label of the spend of keys outside any team, on statements.
pub const TEAMLESS: &str = "Keys outside any team";

/// The gateway-wide settings as stored (the row always exists: the migration made it).
async fn stored(conn: &impl ConnectionTrait) -> Result<gateway_setting::Model, Error> {
    gateway_setting::Entity::find_by_id(gateway_setting::ROW)
        .one(conn)
        .await?
        .ok_or_else(Error::internal)
}

fn settings_of(row: &gateway_setting::Model) -> Settings {
    Settings {
        gateway_limit: row.monthly_limit_micros.map(Money),
        team_default_limit: row.team_default_limit_micros.map(Money),
        teamless_limit: row.teamless_limit_micros.map(Money),
        alert_emails: email_list(&row.alert_emails),
        webhook_url: row.webhook_url.clone(),
    }
}

/// The limit the New team form proposes; `None` when no default is set. Anyone who may create
/// teams reads it.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn team_default_limit(db: &DatabaseConnection) -> Result<Option<Money>, Error> {
    Ok(stored(db).await?.team_default_limit_micros.map(Money))
}

/// The Billing page: settings, this month against the gateway-wide caps, `month`'s statement
/// (this month when `None`), the months there are statements for, and the latest alerts.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner; [`Error::Internal`] on database failure.
pub async fn view(
    db: &DatabaseConnection,
    actor: &Actor,
    month: Option<StatementMonth>,
    now: DateTime<Utc>,
    mail_configured: bool,
) -> Result<BillingView, Error> {
    actor.require(Action::ManageBilling)?;
    let row = stored(db).await?;
    let this_month = month_key(now);
    let spent = |scope: Scope| async move {
        Ok::<_, Error>(
            usage_gateway_month::Entity::find_by_id((scope.id(), this_month))
                .one(db)
                .await?
                .map_or(Money::ZERO, |m| Money(m.spend_micros)),
        )
    };
    let settings = settings_of(&row);
    let gateway = CapNow {
        limit: settings.gateway_limit,
        spent: spent(Scope::All).await?,
    };
    let teamless = CapNow {
        limit: settings.teamless_limit,
        spent: spent(Scope::Teamless).await?,
    };
    Ok(BillingView {
        webhook_secret: row.webhook_secret.clone(),
        gateway,
        teamless,
        statement: statement_of(db, month.unwrap_or(StatementMonth(this_month)), now).await?,
        months: months(db, now).await?,
        alerts: alerts(db).await?,
        alerts_this_month: budget_alert::Entity::find()
            .filter(budget_alert::Column::Month.eq(this_month))
            .filter(
                budget_alert::Column::Outcome
                    .is_null()
                    .or(budget_alert::Column::Outcome.ne(Outcome::Covered)),
            )
            .count(db)
            .await?,
        mail_configured,
        settings,
        generated_at: now,
    })
}

/// `month`'s statement.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner; [`Error::Internal`] on database failure.
pub async fn statement(
    db: &DatabaseConnection,
    actor: &Actor,
    month: StatementMonth,
    now: DateTime<Utc>,
) -> Result<Statement, Error> {
    actor.require(Action::ManageBilling)?;
    statement_of(db, month, now).await
}

async fn statement_of(
    db: &DatabaseConnection,
    month: StatementMonth,
    now: DateTime<Utc>,
) -> Result<Statement, Error> {
    let team_rows = usage_team_month::Entity::find()
        .filter(usage_team_month::Column::Month.eq(month.0))
        .filter(usage_team_month::Column::Requests.gt(0))
        .all(db)
        .await?;
    let ids: Vec<i64> = team_rows.iter().map(|t| t.team_id).collect();
    let team_names = names::teams(db, &ids).await?;
    let mut teams: Vec<StatementLine> = team_rows
        .into_iter()
        .map(|t| StatementLine {
            label: team_names
                .get(&t.team_id)
                .cloned()
                .unwrap_or_else(|| format!("Team #{}", t.team_id)),
            departed: t.team_deleted,
            spend: Money(t.spend_micros),
            requests: t.requests,
        })
        .collect();
    by_spend(&mut teams);
    let gateway_month = |scope: Scope| async move {
        Ok::<_, Error>(
            usage_gateway_month::Entity::find_by_id((scope.id(), month.0))
                .one(db)
                .await?
                .map_or((0, 0), |m| (m.spend_micros, m.requests)),
        )
    };
    let (teamless_spend, teamless_requests) = gateway_month(Scope::Teamless).await?;
    if teamless_requests > 0 {
        teams.push(StatementLine {
            label: TEAMLESS.to_owned(),
            departed: false,
            spend: Money(teamless_spend),
            requests: teamless_requests,
        });
    }
    let day = |d: chrono::NaiveDate| day_key(d.and_time(NaiveTime::MIN).and_utc());
    let sums: Vec<(String, Option<i64>, Option<i64>)> = usage_model_day::Entity::find()
        .select_only()
        .column(usage_model_day::Column::Model)
        // PostgreSQL sums BIGINT as NUMERIC: read back as BIGINT.
        .column_as(
            Expr::col(usage_model_day::Column::SpendMicros)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "spend",
        )
        .column_as(
            Expr::col(usage_model_day::Column::Requests)
                .sum()
                .cast_as(Alias::new("BIGINT")),
            "requests",
        )
        .filter(usage_model_day::Column::Day.between(day(month.first_day()), day(month.last_day())))
        .group_by(usage_model_day::Column::Model)
        .into_tuple()
        .all(db)
        .await?;
    let mut models: Vec<StatementLine> = sums
        .into_iter()
        .map(|(model, spend, requests)| StatementLine {
            label: model,
            departed: false,
            spend: Money(spend.unwrap_or(0)),
            requests: requests.unwrap_or(0),
        })
        .filter(|l| l.requests > 0)
        .collect();
    by_spend(&mut models);
    let (spend, requests) = gateway_month(Scope::All).await?;
    Ok(Statement {
        month,
        teams,
        models,
        total: StatementLine {
            label: "Total".to_owned(),
            departed: false,
            spend: Money(spend),
            requests,
        },
        current: month.0 == month_key(now),
    })
}

/// Largest spend first; equal spends by name.
fn by_spend(lines: &mut [StatementLine]) {
    lines.sort_by(|a, b| b.spend.cmp(&a.spend).then_with(|| a.label.cmp(&b.label)));
}

/// The months with any usage, newest first, and the current one.
async fn months(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<StatementMonth>, Error> {
    let mut months: Vec<i32> = usage_gateway_month::Entity::find()
        .select_only()
        .column(usage_gateway_month::Column::Month)
        .filter(usage_gateway_month::Column::Scope.eq(Scope::All.id()))
        .filter(usage_gateway_month::Column::Requests.gt(0))
        .into_tuple()
        .all(db)
        .await?;
    months.push(month_key(now));
    months.sort_unstable_by(|a, b| b.cmp(a));
    months.dedup();
    Ok(months.into_iter().map(StatementMonth).collect())
}

async fn alerts(db: &DatabaseConnection) -> Result<Vec<AlertRow>, Error> {
    let rows = budget_alert::Entity::find()
        .order_by_desc(budget_alert::Column::CrossedAt)
        .order_by_desc(budget_alert::Column::Id)
        .limit(ALERTS_SHOWN)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|a| a.team_id).collect();
    let team_names: HashMap<i64, String> = names::teams(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|a| AlertRow {
            team: team_names
                .get(&a.team_id)
                .cloned()
                .unwrap_or_else(|| format!("Team #{}", a.team_id)),
            band: a.band,
            spent: Money(a.spent_micros),
            limit: Money(a.limit_micros),
            crossed_at: a.crossed_at,
            told: match (a.outcome, a.sent_at) {
                (Some(Outcome::Sent), Some(at)) => Told::Sent(at),
                (Some(Outcome::Nobody), _) => Told::Nobody,
                (Some(Outcome::Covered), _) => Told::Covered,
                // Say what did go, beside what kept failing.
                (Some(_), _) => Told::GaveUp(match (a.mailed_at, a.posted_at) {
                    (Some(_), _) => format!("emailed; {}", a.last_error),
                    (_, Some(_)) => format!("posted to the webhook; {}", a.last_error),
                    _ => a.last_error,
                }),
                (None, _) if a.attempts > 0 => Told::Retrying(a.last_error),
                (None, _) => Told::Waiting,
            },
        })
        .collect())
}

/// Saves the gateway-wide settings. A changed cap moves the access epoch (a trigger), so every
/// gateway process holds requests to it from their next one. A webhook gets its signing key the
/// first time one is set. Audited with each change, before → after.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner; [`Error::Validation`] naming the field that
/// cannot be used (nothing is saved); [`Error::Internal`] on database failure.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &SettingsInput,
) -> Result<Settings, Error> {
    actor.require(Action::ManageBilling)?;
    let settings = input.check()?;
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ManageBilling)?;
    let row = stored(&txn).await?;
    let before = settings_of(&row);
    let detail = change_detail(&before, &settings);
    let mut changed: gateway_setting::ActiveModel = row.clone().into();
    // Only what changed is written: an unchanged cap does not move the access epoch.
    let micros = |m: Option<Money>| m.map(Money::micros);
    if before.gateway_limit != settings.gateway_limit {
        changed.monthly_limit_micros = Set(micros(settings.gateway_limit));
    }
    if before.teamless_limit != settings.teamless_limit {
        changed.teamless_limit_micros = Set(micros(settings.teamless_limit));
    }
    changed.team_default_limit_micros = Set(micros(settings.team_default_limit));
    changed.alert_emails = Set(settings.alert_emails.join("\n"));
    changed.webhook_url = Set(settings.webhook_url.clone());
    // A new receiver gets a key of its own: the one before could forge alerts to it (shared
    // receivers tell their users apart by the path, so any change of the URL is a new one).
    let new_key = settings.webhook_url.is_some()
        && (row.webhook_secret.is_none() || settings.webhook_url != before.webhook_url);
    if new_key {
        changed.webhook_secret = Set(Some(new_signing_key()));
    }
    let detail = match (detail, new_key && row.webhook_secret.is_some()) {
        (Some(d), true) => Some(format!("{d}; webhook signing key replaced")),
        (d, _) => d,
    };
    changed.updated_at = Set(Some(Utc::now()));
    changed.update(&txn).await?;
    if let Some(detail) = detail {
        audit::record_by(&txn, &actor, "billing.settings", "billing", &detail).await?;
    }
    txn.commit().await?;
    Ok(settings)
}

/// Whom alerts go to now, for an Owner's test-send.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner; [`Error::Internal`] on database failure.
pub async fn test_recipients(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<(Vec<String>, Option<crate::service::alerts::Webhook>), Error> {
    actor.require(Action::ManageBilling)?;
    crate::service::alerts::recipients(db).await
}

/// Replaces the webhook's signing key (the receiver must be given the new one). Audited.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner; [`Error::Internal`] on database failure.
pub async fn rotate_signing_key(db: &DatabaseConnection, actor: &Actor) -> Result<(), Error> {
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ManageBilling)?;
    gateway_setting::Entity::update_many()
        .col_expr(
            gateway_setting::Column::WebhookSecret,
            Expr::value(new_signing_key()),
        )
        .filter(gateway_setting::Column::Id.eq(gateway_setting::ROW))
        .exec(&txn)
        .await?;
    audit::record_by(
        &txn,
        &actor,
        "billing.webhook_key",
        "billing",
        "webhook signing key replaced",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn new_signing_key() -> String {
    format!("whsec_{}", Secret::random().digest())
}

/// The scheme and host of a webhook URL (`https://hooks.example.com`): what the audit log
/// names, since the rest may carry the receiver's own token.
fn host(url: Option<&str>) -> Option<String> {
    let url = url?;
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    Some(format!("{scheme}://{host}"))
}

/// What the audit log says of a save: each setting that changed — the limits before → after,
/// the addresses by how many, the webhook by its host; `None` when nothing changed. The audit
/// log is also read by Admins: it names no address.
fn change_detail(before: &Settings, after: &Settings) -> Option<String> {
    let amount = |m: Option<Money>| m.map_or_else(|| "none".to_owned(), |m| m.to_string());
    let count = |n: usize| match n {
        0 => "nobody".to_owned(),
        1 => "1 address".to_owned(),
        n => format!("{n} addresses"),
    };
    let webhook = |u: Option<&str>| host(u).map_or_else(|| "none".to_owned(), |h| format!("{h}/…"));
    let mut changes = Vec::new();
    for (what, b, a) in [
        ("gateway limit", before.gateway_limit, after.gateway_limit),
        (
            "default team limit",
            before.team_default_limit,
            after.team_default_limit,
        ),
        (
            "keys outside teams cap",
            before.teamless_limit,
            after.teamless_limit,
        ),
    ] {
        if b != a {
            changes.push(format!("{what} {} → {}", amount(b), amount(a)));
        }
    }
    if before.alert_emails != after.alert_emails {
        changes.push(format!(
            "alert emails {} → {}",
            count(before.alert_emails.len()),
            count(after.alert_emails.len())
        ));
    }
    if before.webhook_url != after.webhook_url {
        let (b, a) = (
            webhook(before.webhook_url.as_deref()),
            webhook(after.webhook_url.as_deref()),
        );
        changes.push(if b == a {
            format!("webhook address changed ({a})")
        } else {
            format!("webhook {b} → {a}")
        });
    }
    (!changes.is_empty()).then(|| changes.join("; "))
}

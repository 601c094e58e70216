//! Metering: the one place a request's cost is recorded — per team, user and key, and for the
//! whole gateway and its keys outside any team, for the request's calendar month (UTC), and per
//! UTC day, team, user, key and model with its tokens (`usage_days`, what the Usage page and
//! statements read, with its sums over the last 7, 30 and 90 days: [`usage_windows`]) — together with the key's last use and the user's last activity, and the
//! teams that crossed a band of their limit ([`alerts`]). The gateway's ledger calls it for
//! every served request (in batches); the seed command and tests call it directly.
//! Every spend and request figure on the dashboard is read from what this writes.

use crate::entity::usage_gateway_month::{self, Scope};
use crate::entity::{
    api_key, usage_day, usage_day_total, usage_key_month, usage_model_day, usage_team_month,
    usage_user_month, user,
};
use crate::money::Money;
use crate::service::{alerts, usage_windows};
use crate::service::{day_key, month_key};
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use std::collections::HashMap;
use std::sync::Arc;

/// One request that was served: who made it with which key, for which team, at what cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metered {
    pub key: KeyId,
    pub user: UserId,
    pub team: Option<TeamId>,
    pub cost: Money,
    pub at: DateTime<Utc>,
    pub served: Served,
}

/// What was served: the model asked for and the tokens the upstream reported (zero when it
/// reported none and the request was charged its worst case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Served {
    pub model: Arc<str>,
    pub tokens_in: u64,
    pub tokens_out: u64,
}

/// Adds `request` to its month's aggregates and marks the key used and the user active. Call it
/// inside the transaction that settles the request, so a crash loses both or neither.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record<C>(conn: &C, request: &Metered) -> Result<(), Error>
where
    C: ConnectionTrait + TransactionTrait,
{
    record_all(conn, std::slice::from_ref(request)).await
}

/// [`record`] for many requests at once: one write per team, user and key month, per day row,
/// per day and per day and model (and per key and user for the marks), however many requests
/// they made.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record_all<C>(conn: &C, requests: &[Metered]) -> Result<(), Error>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut teams: HashMap<(i64, i32), Figures> = HashMap::new();
    let mut users: HashMap<(i64, i32), Figures> = HashMap::new();
    let mut keys: HashMap<(i64, i32), Figures> = HashMap::new();
    let mut key_used: HashMap<i64, DateTime<Utc>> = HashMap::new();
    let mut user_active: HashMap<i64, DateTime<Utc>> = HashMap::new();
    let mut days: HashMap<(i32, i64, i64, i64, &str), Figures> = HashMap::new();
    let mut day_totals: HashMap<i32, Figures> = HashMap::new();
    let mut model_days: HashMap<(i32, &str), Figures> = HashMap::new();
    let mut gateway: HashMap<(Scope, i32), Figures> = HashMap::new();
    for r in requests {
        let (day, month) = (day_key(r.at), month_key(r.at));
        let team = r.team.map_or(0, |t| t.0);
        days.entry((day, team, r.user.0, r.key.0, &r.served.model))
            .or_default()
            .add(r);
        day_totals.entry(day).or_default().add(r);
        model_days.entry((day, &r.served.model)).or_default().add(r);
        gateway.entry((Scope::All, month)).or_default().add(r);
        if r.team.is_some() {
            teams.entry((team, month)).or_default().add(r);
        } else {
            gateway.entry((Scope::Teamless, month)).or_default().add(r);
        }
        users.entry((r.user.0, month)).or_default().add(r);
        keys.entry((r.key.0, month)).or_default().add(r);
        latest(&mut key_used, r.key.0, r.at);
        latest(&mut user_active, r.user.0, r.at);
    }
    let crossed: Vec<(i64, i32)> = teams.keys().copied().collect();
    for ((team, month), t) in teams {
        usage_team_month::Entity::insert(usage_team_month::ActiveModel {
            team_id: Set(team),
            month: Set(month),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            tokens_in: Set(t.tokens_in),
            tokens_out: Set(t.tokens_out),
            reserved_micros: Set(0),
            // Set by the database: whether the team still exists.
            team_deleted: sea_orm::ActiveValue::NotSet,
        })
        .on_conflict(adding(
            [
                usage_team_month::Column::TeamId,
                usage_team_month::Column::Month,
            ],
            [
                usage_team_month::Column::SpendMicros,
                usage_team_month::Column::Requests,
                usage_team_month::Column::TokensIn,
                usage_team_month::Column::TokensOut,
            ],
        ))
        .exec(conn)
        .await?;
    }
    alerts::note_crossings(conn, &crossed, requests.iter().map(|r| r.at).max()).await?;
    for ((scope, month), t) in gateway {
        usage_gateway_month::Entity::insert(usage_gateway_month::ActiveModel {
            scope: Set(scope.id()),
            month: Set(month),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            reserved_micros: Set(0),
        })
        .on_conflict(adding(
            [
                usage_gateway_month::Column::Scope,
                usage_gateway_month::Column::Month,
            ],
            [
                usage_gateway_month::Column::SpendMicros,
                usage_gateway_month::Column::Requests,
            ],
        ))
        .exec(conn)
        .await?;
    }
    for ((user, month), t) in users {
        usage_user_month::Entity::insert(usage_user_month::ActiveModel {
            user_id: Set(user),
            month: Set(month),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            tokens_in: Set(t.tokens_in),
            tokens_out: Set(t.tokens_out),
            reserved_micros: Set(0),
        })
        .on_conflict(adding(
            [
                usage_user_month::Column::UserId,
                usage_user_month::Column::Month,
            ],
            [
                usage_user_month::Column::SpendMicros,
                usage_user_month::Column::Requests,
                usage_user_month::Column::TokensIn,
                usage_user_month::Column::TokensOut,
            ],
        ))
        .exec(conn)
        .await?;
    }
    for ((key, month), t) in keys {
        usage_key_month::Entity::insert(usage_key_month::ActiveModel {
            key_id: Set(key),
            month: Set(month),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            tokens_in: Set(t.tokens_in),
            tokens_out: Set(t.tokens_out),
            reserved_micros: Set(0),
        })
        .on_conflict(adding(
            [
                usage_key_month::Column::KeyId,
                usage_key_month::Column::Month,
            ],
            [
                usage_key_month::Column::SpendMicros,
                usage_key_month::Column::Requests,
                usage_key_month::Column::TokensIn,
                usage_key_month::Column::TokensOut,
            ],
        ))
        .exec(conn)
        .await?;
    }
    let rows: Vec<usage_windows::DayRow> = days
        .iter()
        .map(|((day, team, user, key, _), t)| {
            (
                *day,
                [*team, *user, *key],
                [t.spend, t.requests, t.tokens_in, t.tokens_out],
            )
        })
        .collect();
    usage_windows::add(conn, &rows).await?;
    for ((day, team, user, key, model), t) in days {
        usage_day::Entity::insert(usage_day::ActiveModel {
            day: Set(day),
            team_id: Set(team),
            user_id: Set(user),
            key_id: Set(key),
            model: Set(model.to_owned()),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            tokens_in: Set(t.tokens_in),
            tokens_out: Set(t.tokens_out),
        })
        .on_conflict(adding(
            [
                usage_day::Column::Day,
                usage_day::Column::TeamId,
                usage_day::Column::UserId,
                usage_day::Column::KeyId,
                usage_day::Column::Model,
            ],
            [
                usage_day::Column::SpendMicros,
                usage_day::Column::Requests,
                usage_day::Column::TokensIn,
                usage_day::Column::TokensOut,
            ],
        ))
        .exec(conn)
        .await?;
    }
    for (day, t) in day_totals {
        usage_day_total::Entity::insert(usage_day_total::ActiveModel {
            day: Set(day),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            tokens_in: Set(t.tokens_in),
            tokens_out: Set(t.tokens_out),
        })
        .on_conflict(adding(
            [usage_day_total::Column::Day],
            [
                usage_day_total::Column::SpendMicros,
                usage_day_total::Column::Requests,
                usage_day_total::Column::TokensIn,
                usage_day_total::Column::TokensOut,
            ],
        ))
        .exec(conn)
        .await?;
    }
    for ((day, model), t) in model_days {
        usage_model_day::Entity::insert(usage_model_day::ActiveModel {
            day: Set(day),
            model: Set(model.to_owned()),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            tokens_in: Set(t.tokens_in),
            tokens_out: Set(t.tokens_out),
        })
        .on_conflict(adding(
            [usage_model_day::Column::Day, usage_model_day::Column::Model],
            [
                usage_model_day::Column::SpendMicros,
                usage_model_day::Column::Requests,
                usage_model_day::Column::TokensIn,
                usage_model_day::Column::TokensOut,
            ],
        ))
        .exec(conn)
        .await?;
    }
    // Later requests may settle first: the marks only move forward.
    for (key, at) in key_used {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(at))
            .filter(api_key::Column::Id.eq(key))
            .filter(
                Condition::any()
                    .add(api_key::Column::LastUsedAt.is_null())
                    .add(api_key::Column::LastUsedAt.lt(at)),
            )
            .exec(conn)
            .await?;
    }
    for (user, at) in user_active {
        user::Entity::update_many()
            .col_expr(user::Column::LastActiveAt, Expr::value(at))
            .filter(user::Column::Id.eq(user))
            .filter(
                Condition::any()
                    .add(user::Column::LastActiveAt.is_null())
                    .add(user::Column::LastActiveAt.lt(at)),
            )
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Spend, requests and tokens summed for one row (a month's, a day's).
#[derive(Debug, Default)]
struct Figures {
    spend: i64,
    requests: i64,
    tokens_in: i64,
    tokens_out: i64,
}

/// The most tokens one request is counted with, whatever the upstream reported: sums of many
/// stay far from what a BIGINT holds.
const MAX_TOKENS: u64 = 1 << 40;

impl Figures {
    fn add(&mut self, r: &Metered) {
        let tokens = |n: u64| i64::try_from(Ord::min(n, MAX_TOKENS)).unwrap_or(0);
        self.spend = self.spend.saturating_add(r.cost.micros());
        self.requests += 1;
        self.tokens_in = self.tokens_in.saturating_add(tokens(r.served.tokens_in));
        self.tokens_out = self.tokens_out.saturating_add(tokens(r.served.tokens_out));
    }
}

fn latest(marks: &mut HashMap<i64, DateTime<Utc>>, id: i64, at: DateTime<Utc>) {
    let mark = marks.entry(id).or_insert(at);
    if at > *mark {
        *mark = at;
    }
}

/// When the row keyed by `key` exists: add the new row's `figures` to it.
pub(crate) fn adding<C: sea_orm::ColumnTrait + Copy + 'static, const K: usize, const F: usize>(
    key: [C; K],
    figures: [C; F],
) -> OnConflict {
    let excluded = Alias::new("excluded");
    let mut on_conflict = OnConflict::columns(key);
    for figure in figures {
        on_conflict.value(
            figure,
            Expr::col((figure.entity_name(), figure)).add(Expr::col((excluded.clone(), figure))),
        );
    }
    on_conflict.to_owned()
}

//! Metering: the one place a request's cost is recorded — per team, user and key, for the
//! request's calendar month (UTC) — together with the key's last use and the user's last
//! activity. The gateway's ledger calls it for every served request (in batches); the seed command and
//! tests call it directly.
//! Every spend and request figure on the dashboard is read from what this writes.

use crate::entity::{api_key, usage_key_month, usage_team_month, usage_user_month, user};
use crate::money::Money;
use crate::service::month_key;
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::collections::HashMap;

/// One request that was served: who made it with which key, for which team, at what cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metered {
    pub key: KeyId,
    pub user: UserId,
    pub team: Option<TeamId>,
    pub cost: Money,
    pub at: DateTime<Utc>,
}

/// Adds `request` to its month's aggregates and marks the key used and the user active. Call it
/// inside the transaction that settles the request, so a crash loses both or neither.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record(conn: &impl ConnectionTrait, request: &Metered) -> Result<(), Error> {
    record_all(conn, std::slice::from_ref(request)).await
}

/// [`record`] for many requests at once: one write per team, user and key month (and per key
/// and user for the marks), however many requests they made.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record_all(conn: &impl ConnectionTrait, requests: &[Metered]) -> Result<(), Error> {
    let mut teams: HashMap<(i64, i32), Tally> = HashMap::new();
    let mut users: HashMap<(i64, i32), Tally> = HashMap::new();
    let mut keys: HashMap<(i64, i32), Tally> = HashMap::new();
    let mut key_used: HashMap<i64, DateTime<Utc>> = HashMap::new();
    let mut user_active: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for r in requests {
        let month = month_key(r.at);
        if let Some(team) = r.team {
            teams.entry((team.0, month)).or_default().add(r.cost);
        }
        users.entry((r.user.0, month)).or_default().add(r.cost);
        keys.entry((r.key.0, month)).or_default().add(r.cost);
        latest(&mut key_used, r.key.0, r.at);
        latest(&mut user_active, r.user.0, r.at);
    }
    for ((team, month), t) in teams {
        usage_team_month::Entity::insert(usage_team_month::ActiveModel {
            team_id: Set(team),
            month: Set(month),
            spend_micros: Set(t.spend),
            requests: Set(t.requests),
            reserved_micros: Set(0),
            // Set by the database: whether the team still exists.
            team_deleted: sea_orm::ActiveValue::NotSet,
        })
        .on_conflict(add_on_conflict(
            [
                usage_team_month::Column::TeamId,
                usage_team_month::Column::Month,
            ],
            usage_team_month::Column::SpendMicros,
            usage_team_month::Column::Requests,
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
            reserved_micros: Set(0),
        })
        .on_conflict(add_on_conflict(
            [
                usage_user_month::Column::UserId,
                usage_user_month::Column::Month,
            ],
            usage_user_month::Column::SpendMicros,
            usage_user_month::Column::Requests,
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
            reserved_micros: Set(0),
        })
        .on_conflict(add_on_conflict(
            [
                usage_key_month::Column::KeyId,
                usage_key_month::Column::Month,
            ],
            usage_key_month::Column::SpendMicros,
            usage_key_month::Column::Requests,
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

/// Spend and requests summed for one month row.
#[derive(Debug, Default)]
struct Tally {
    spend: i64,
    requests: i64,
}

impl Tally {
    fn add(&mut self, cost: Money) {
        self.spend += cost.micros();
        self.requests += 1;
    }
}

fn latest(marks: &mut HashMap<i64, DateTime<Utc>>, id: i64, at: DateTime<Utc>) {
    let mark = marks.entry(id).or_insert(at);
    if at > *mark {
        *mark = at;
    }
}

/// When the month's row exists: add these requests' spend and count.
fn add_on_conflict<C: sea_orm::ColumnTrait + Copy + 'static>(
    key: [C; 2],
    spend: C,
    requests: C,
) -> OnConflict {
    let excluded = Alias::new("excluded");
    let table = spend.entity_name();
    OnConflict::columns(key)
        .value(
            spend,
            Expr::col((table.clone(), spend)).add(Expr::col((excluded.clone(), spend))),
        )
        .value(
            requests,
            Expr::col((table, requests)).add(Expr::col((excluded, requests))),
        )
        .to_owned()
}

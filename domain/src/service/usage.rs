//! Metering: the one place a request's cost is recorded — per team, user and key, for the
//! request's calendar month (UTC) — together with the key's last use and the user's last
//! activity. The gateway path will call it for every admitted request; tests call it directly.
//! Every spend and request figure on the dashboard is read from what this writes.

use crate::entity::{api_key, usage_key_month, usage_team_month, usage_user_month, user};
use crate::money::Money;
use crate::service::month_key;
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};

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
    let month = month_key(request.at);
    let cost = request.cost.micros();
    if let Some(team) = request.team {
        usage_team_month::Entity::insert(usage_team_month::ActiveModel {
            team_id: Set(team.0),
            month: Set(month),
            spend_micros: Set(cost),
            requests: Set(1),
            reserved_micros: Set(0),
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
    usage_user_month::Entity::insert(usage_user_month::ActiveModel {
        user_id: Set(request.user.0),
        month: Set(month),
        spend_micros: Set(cost),
        requests: Set(1),
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
    usage_key_month::Entity::insert(usage_key_month::ActiveModel {
        key_id: Set(request.key.0),
        month: Set(month),
        spend_micros: Set(cost),
        requests: Set(1),
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
    // Later requests may settle first: the marks only move forward.
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(request.at))
        .filter(api_key::Column::Id.eq(request.key.0))
        .filter(
            Condition::any()
                .add(api_key::Column::LastUsedAt.is_null())
                .add(api_key::Column::LastUsedAt.lt(request.at)),
        )
        .exec(conn)
        .await?;
    user::Entity::update_many()
        .col_expr(user::Column::LastActiveAt, Expr::value(request.at))
        .filter(user::Column::Id.eq(request.user.0))
        .filter(
            Condition::any()
                .add(user::Column::LastActiveAt.is_null())
                .add(user::Column::LastActiveAt.lt(request.at)),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// On a second request in the same month: add this request's spend, count one more request.
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
            Expr::col((table.clone(), spend)).add(Expr::col((excluded, spend))),
        )
        .value(requests, Expr::col((table, requests)).add(1))
        .to_owned()
}

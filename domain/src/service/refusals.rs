//! Refusals, counted: every request the gateway turns away — a bad key, a budget, a per-minute
//! limit, a model the key may not call — is added to its day's row in `refusal_days` with the
//! reason the client was given, written behind in the ledger's rounds like settlements (one
//! upsert per distinct row per round, however many requests it counts). They feed the Usage
//! page's refusals chart and its "why was I blocked" list.

use crate::entity::refusal_day::{self, RefusalKind};
use crate::service::day_key;
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use std::collections::HashMap;

/// The longest reason kept, in characters; longer ones are cut.
const REASON_CHARS: usize = 300;

/// One refused request: whose key (when it was known), why, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: Option<KeyId>,
    pub user: Option<UserId>,
    pub team: Option<TeamId>,
    pub kind: RefusalKind,
    /// The message the client was answered with.
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Adds `refusals` to their days' counts: one write per day, key, kind and reason.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record_all(conn: &impl ConnectionTrait, refusals: &[Refusal]) -> Result<(), Error> {
    type Row<'a> = (i32, i64, i64, i64, RefusalKind, &'a str);
    let mut rows: HashMap<Row<'_>, (i64, DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for r in refusals {
        let row = (
            day_key(r.at),
            r.team.map_or(0, |t| t.0),
            r.user.map_or(0, |u| u.0),
            r.key.map_or(0, |k| k.0),
            r.kind,
            r.reason.as_str(),
        );
        let (count, first, last) = rows.entry(row).or_insert((0, r.at, r.at));
        *count += 1;
        *first = Ord::min(*first, r.at);
        *last = Ord::max(*last, r.at);
    }
    for ((day, team, user, key, kind, reason), (count, first, last)) in rows {
        refusal_day::Entity::insert(refusal_day::ActiveModel {
            day: Set(day),
            team_id: Set(team),
            user_id: Set(user),
            key_id: Set(key),
            kind: Set(kind),
            reason: Set(reason.chars().take(REASON_CHARS).collect()),
            count: Set(count),
            first_at: Set(first),
            last_at: Set(last),
        })
        .on_conflict(adding_count())
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// When the day's row exists: add the count and move its last moment forward.
fn adding_count() -> OnConflict {
    use refusal_day::Column as C;
    let (table, excluded) = (Alias::new("refusal_days"), Alias::new("excluded"));
    let newer = Expr::col((excluded.clone(), C::LastAt)).gt(Expr::col((table.clone(), C::LastAt)));
    OnConflict::columns([C::Day, C::TeamId, C::UserId, C::KeyId, C::Kind, C::Reason])
        .value(
            C::Count,
            Expr::col((table.clone(), C::Count)).add(Expr::col((excluded.clone(), C::Count))),
        )
        .value(
            C::LastAt,
            Expr::case(newer, Expr::col((excluded, C::LastAt)))
                .finally(Expr::col((table, C::LastAt))),
        )
        .to_owned()
}

//! Refusals, counted: every request the gateway turns away — a bad key, a budget, a per-minute
//! limit, a model the key may not call — is added to its day's row in `refusal_days` with the
//! reason the client was given. They feed the Usage page's refusals chart and its "why was I
//! blocked" list.
//!
//! A refusal costs the request path a map update in memory ([`Tally::add`]), never a write or a
//! message of its own: senders without a key must not be able to make the gateway work for
//! them. The ledger's writer takes the tally whenever it writes (at least every 250 ms) and
//! adds it with one upsert per distinct row. The tally holds at most [`MAX_ROWS`] distinct
//! rows; past that, refusals are counted as dropped and logged, not kept.

use crate::entity::refusal_day::{self, RefusalKind};
use crate::service::{alerts, day_key, month_key};
use crate::{Error, KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use std::collections::HashMap;

/// The longest reason kept, in characters; longer ones are cut.
const REASON_CHARS: usize = 300;

/// The most distinct rows a tally holds between writes.
pub const MAX_ROWS: usize = 10_000;

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

/// A `refusal_days` row's key: day, team, user, key (0 for none), kind, reason.
type Row = (i32, i64, i64, i64, RefusalKind, String);

/// How many refusals a row counts, and its first and last moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counted {
    count: i64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// Refusals counted since the last write, by row.
#[derive(Debug, Default)]
pub struct Tally {
    rows: HashMap<Row, Counted>,
    /// Refusals not kept because the tally was full.
    dropped: u64,
}

impl Tally {
    /// Counts `r` in its row.
    pub fn add(&mut self, r: Refusal) {
        let row = (
            day_key(r.at),
            r.team.map_or(0, |t| t.0),
            r.user.map_or(0, |u| u.0),
            r.key.map_or(0, |k| k.0),
            r.kind,
            cut(r.reason),
        );
        self.count(row, 1, r.at, r.at);
    }

    fn count(&mut self, row: Row, count: i64, first: DateTime<Utc>, last: DateTime<Utc>) {
        let full = self.rows.len() >= MAX_ROWS;
        match self.rows.get_mut(&row) {
            Some(c) => {
                c.count = c.count.saturating_add(count);
                c.first = Ord::min(c.first, first);
                c.last = Ord::max(c.last, last);
            }
            None if full => {
                self.dropped = self
                    .dropped
                    .saturating_add(u64::try_from(count).unwrap_or(0));
            }
            None => {
                self.rows.insert(row, Counted { count, first, last });
            }
        }
    }

    /// Adds what `other` counted (a newer tally onto one a failed write kept).
    pub fn merge(&mut self, other: Tally) {
        self.dropped = self.dropped.saturating_add(other.dropped);
        for (row, c) in other.rows {
            self.count(row, c.count, c.first, c.last);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.dropped == 0
    }

    /// How many distinct rows it holds.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }
}

fn cut(reason: String) -> String {
    if reason.chars().count() <= REASON_CHARS {
        reason
    } else {
        reason.chars().take(REASON_CHARS).collect()
    }
}

/// Adds `tally` to the day rows: one write per row, however many refusals it counts.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record(conn: &impl ConnectionTrait, tally: &Tally) -> Result<(), Error> {
    if tally.dropped > 0 {
        tracing::warn!(
            dropped = tally.dropped,
            "refusals not counted: more distinct ones than the tally holds between writes"
        );
    }
    for ((day, team, user, key, kind, reason), c) in &tally.rows {
        refusal_day::Entity::insert(refusal_day::ActiveModel {
            day: Set(*day),
            team_id: Set(*team),
            user_id: Set(*user),
            key_id: Set(*key),
            kind: Set(*kind),
            reason: Set(reason.clone()),
            count: Set(c.count),
            first_at: Set(c.first),
            last_at: Set(c.last),
        })
        .on_conflict(adding_count())
        .exec(conn)
        .await?;
    }
    // A team's budget refusing is its 100 % alert: the cap keeps its spend below the limit.
    let mut capped: Vec<(TeamId, i32)> = tally
        .rows
        .iter()
        .filter(|((_, team, ..), _)| *team != 0)
        .filter(|((.., kind, _), _)| *kind == RefusalKind::TeamBudget)
        .map(|((_, team, ..), c)| (TeamId(*team), month_key(c.last)))
        .collect();
    capped.sort_unstable_by_key(|(t, m)| (t.0, *m));
    capped.dedup();
    if let Some(at) = tally.rows.values().map(|c| c.last).max() {
        alerts::note_refused(conn, &capped, at).await?;
    }
    Ok(())
}

/// [`record`] for refusals one by one (tests and tools).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record_all(conn: &impl ConnectionTrait, refusals: &[Refusal]) -> Result<(), Error> {
    let mut tally = Tally::default();
    refusals.iter().cloned().for_each(|r| tally.add(r));
    record(conn, &tally).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(n: usize) -> Refusal {
        Refusal {
            key: None,
            user: None,
            team: None,
            kind: RefusalKind::Key,
            reason: format!("reason {n}"),
            at: Utc::now(),
        }
    }

    #[test]
    fn a_flood_of_the_same_refusal_is_one_row() {
        let mut tally = Tally::default();
        for _ in 0..100_000 {
            tally.add(refusal(0));
        }
        assert_eq!(tally.rows(), 1);
        assert_eq!(tally.rows.values().next().unwrap().count, 100_000);
    }

    #[test]
    fn a_full_tally_drops_new_rows_and_keeps_counting_old_ones() {
        let mut tally = Tally::default();
        for n in 0..MAX_ROWS + 50 {
            tally.add(refusal(n));
        }
        tally.add(refusal(0));
        assert_eq!(tally.rows(), MAX_ROWS);
        assert_eq!(tally.dropped, 50);
        let mut kept = Tally::default();
        kept.add(refusal(0));
        kept.merge(tally);
        assert_eq!(kept.rows(), MAX_ROWS);
        let first = kept.rows.iter().find(|(r, _)| r.5 == "reason 0").unwrap().1;
        assert_eq!(first.count, 3);
    }
}

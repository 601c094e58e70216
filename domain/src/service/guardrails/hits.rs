//! Guardrail hits, counted as refusals are: the request path adds one to a map in memory
//! ([`Hits::add`]), and the ledger's writer takes the map with its next round (at least every
//! 250 ms) and adds each rule's month with one upsert. A rule deleted meanwhile only leaves a
//! count nobody reads.

use crate::Error;
use crate::entity::guardrail_hit;
use crate::service::month_key;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use std::collections::HashMap;

/// Hits since the last write, by rule and month.
#[derive(Debug, Default)]
pub struct Hits {
    counts: HashMap<(i64, i32), i64>,
}

impl Hits {
    /// Counts one request `rule` matched at `at`.
    pub fn add(&mut self, rule: i64, at: DateTime<Utc>) {
        self.count((rule, month_key(at)), 1);
    }

    fn count(&mut self, key: (i64, i32), n: i64) {
        let total = self.counts.entry(key).or_insert(0);
        *total = total.saturating_add(n);
    }

    /// Adds what `other` counted (a newer map onto one a failed write kept).
    pub fn merge(&mut self, other: Hits) {
        for (key, n) in other.counts {
            self.count(key, n);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Adds `hits` to the month rows.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn record(conn: &impl ConnectionTrait, hits: &Hits) -> Result<(), Error> {
    use guardrail_hit::Column as C;
    for ((rule, month), n) in &hits.counts {
        let (table, excluded) = (Alias::new("guardrail_hits"), Alias::new("excluded"));
        guardrail_hit::Entity::insert(guardrail_hit::ActiveModel {
            guardrail_id: Set(*rule),
            month: Set(*month),
            hits: Set(*n),
        })
        .on_conflict(
            OnConflict::columns([C::GuardrailId, C::Month])
                .value(
                    C::Hits,
                    Expr::col((table, C::Hits)).add(Expr::col((excluded, C::Hits))),
                )
                .to_owned(),
        )
        .exec(conn)
        .await?;
    }
    Ok(())
}

//! The report's table: each group's totals with its refusals, in the reader's order and cut to
//! the rows shown, with the total and the chart's top groups by spend. Two ways to the same
//! answer:
//! - [`first_rows`]: for the whole gateway's kept sums ([`Kept`]) in order of a figure, the
//!   database sorts and hands over only the rows shown (and the chart's), so a table of
//!   100,000 people costs what 200 rows cost;
//! - [`every_row`]: every group is read and sorted here — by name, by refusals, for a Member's
//!   part, a range nothing keeps whole, or the CSV export (every row).

use super::kept::Kept;
use super::{Rows, by_id, labels, sort, source};
use crate::Error;
use crate::money::Money;
use crate::usage::{CHART_GROUPS, GroupBy, GroupTotals, UsageQuery, UsageSort};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

/// The table as the report shows it.
pub(super) struct Table {
    /// The rows shown, in order, labelled.
    pub rows: Vec<(String, GroupTotals)>,
    /// How many groups there are past the rows shown.
    pub more_rows: u64,
    pub total: GroupTotals,
    /// The chart's groups, by spend.
    pub top: Vec<String>,
    /// Whether any group with spend is left out of `top` ("Other").
    pub others: bool,
}

/// Whether the database can put the kept sums in the query's order.
pub(super) fn sorted_by_database(query: &UsageQuery) -> bool {
    !matches!(query.sort, UsageSort::Name | UsageSort::Refusals)
}

/// The table from the first `n` kept rows in the query's order, and the few groups the kept
/// sums lack: those only refused, never served, and (for a month by team) keys outside any
/// team. The rows shown are among those, whatever the rest hold.
pub(super) async fn first_rows(
    db: &impl ConnectionTrait,
    query: &UsageQuery,
    kept: Kept,
    days: (i32, i32),
    refused: &HashMap<String, i64>,
    n: usize,
) -> Result<Table, Error> {
    let mut extra: Vec<(String, GroupTotals)> =
        source::no_team(db, kept, days).await?.into_iter().collect();
    let refused_keys: Vec<&str> = refused.keys().map(String::as_str).collect();
    let served = kept.having(db, &refused_keys).await?;
    for key in refused_keys {
        if !served.contains(key) && !extra.iter().any(|(k, _)| k == key) {
            extra.push((key.to_owned(), GroupTotals::default()));
        }
    }
    let groups = kept.count(db).await? + u64::try_from(extra.len()).unwrap_or(0);

    let mut rows = kept.first(db, query.sort, query.descending, n).await?;
    rows.extend(extra.iter().cloned());
    with_refusals(&mut rows, query.group, refused);
    label(db, query.group, &mut rows).await?;
    sort(&mut rows, query.sort, query.descending);
    rows.truncate(n);

    let mut by_spend = kept
        .first(db, UsageSort::Spend, true, CHART_GROUPS + 1)
        .await?;
    by_spend.extend(extra);
    let (top, others) = chart_groups(&by_spend);

    let mut total = source::gateway_total(db, days).await?;
    total.label = "Total".to_owned();
    total.refusals = refused.values().sum();
    Ok(Table {
        more_rows: groups.saturating_sub(u64::try_from(rows.len()).unwrap_or(0)),
        rows,
        total,
        top,
        others,
    })
}

/// The table from every group's totals.
pub(super) async fn every_row(
    db: &impl ConnectionTrait,
    query: &UsageQuery,
    mut rows: Vec<(String, GroupTotals)>,
    refused: &HashMap<String, i64>,
    shown: Rows,
) -> Result<Table, Error> {
    // Groups that were only refused, never served, still have a row.
    if query.group != GroupBy::Model {
        for key in refused.keys() {
            if !rows.iter().any(|(k, _)| k == key) {
                rows.push((key.clone(), GroupTotals::default()));
            }
        }
    }
    with_refusals(&mut rows, query.group, refused);
    let mut total = GroupTotals {
        label: "Total".to_owned(),
        ..GroupTotals::default()
    };
    for (_, r) in &rows {
        total.spend = Money(total.spend.micros().saturating_add(r.spend.micros()));
        total.requests += r.requests;
        total.tokens_in += r.tokens_in;
        total.tokens_out += r.tokens_out;
    }
    total.refusals = refused.values().sum();
    let (top, others) = chart_groups(&rows);

    // Sorting by name needs every name; otherwise only the rows shown are labelled.
    if query.sort == UsageSort::Name {
        label(db, query.group, &mut rows).await?;
    }
    sort(&mut rows, query.sort, query.descending);
    let more_rows = match shown {
        Rows::All => 0,
        Rows::First(n) => {
            let more = rows.len().saturating_sub(n);
            rows.truncate(n);
            u64::try_from(more).unwrap_or(u64::MAX)
        }
    };
    if query.sort != UsageSort::Name {
        label(db, query.group, &mut rows).await?;
    }
    Ok(Table {
        rows,
        more_rows,
        total,
        top,
        others,
    })
}

/// Each row's refusals. A refusal comes before a model is served: by model there is only their
/// total, counted in the total row.
fn with_refusals(
    rows: &mut [(String, GroupTotals)],
    group: GroupBy,
    refused: &HashMap<String, i64>,
) {
    if group == GroupBy::Model {
        return;
    }
    for (key, row) in rows {
        row.refusals = refused.get(key).copied().unwrap_or(0);
    }
}

/// The top [`CHART_GROUPS`] groups with spend, by spend (ties by id), and whether any other
/// group has spend.
fn chart_groups(rows: &[(String, GroupTotals)]) -> (Vec<String>, bool) {
    let mut ranked: Vec<(&str, Money)> = rows
        .iter()
        .filter(|(_, r)| r.spend > Money::ZERO)
        .map(|(k, r)| (k.as_str(), r.spend))
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(by_id(a.0, b.0)));
    let others = ranked.len() > CHART_GROUPS;
    let top = ranked
        .iter()
        .take(CHART_GROUPS)
        .map(|(k, _)| (*k).to_owned())
        .collect();
    (top, others)
}

/// Gives each row its group's label.
async fn label(
    db: &impl ConnectionTrait,
    group: GroupBy,
    rows: &mut [(String, GroupTotals)],
) -> Result<(), Error> {
    let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
    let found = labels(db, group, &keys).await?;
    for (k, r) in rows {
        r.label = found.get(k).cloned().unwrap_or_default();
    }
    Ok(())
}

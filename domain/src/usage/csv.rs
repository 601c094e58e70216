//! The Usage table as CSV ([`crate::csv`]): exactly the rows and columns the page shows, in its
//! order, with the total last.

use super::{GroupBy, UsageReport};
use crate::csv::line;

/// `report`'s table, grouped by `group`, as a CSV document.
pub fn to_csv(report: &UsageReport, group: GroupBy) -> String {
    let mut out = String::new();
    line(
        &mut out,
        [
            group.as_str(),
            "spend_usd",
            "requests",
            "tokens_in",
            "tokens_out",
            "refusals",
            "share_percent",
        ],
    );
    let total = std::iter::once((&report.total, true));
    for (row, is_total) in report.rows.iter().map(|r| (r, false)).chain(total) {
        let share = row.share_permille(report.total.spend);
        // As on the page: refusals come before a model is served, so per model there is none.
        let refusals = if group == GroupBy::Model && !is_total {
            String::new()
        } else {
            row.refusals.to_string()
        };
        let cells = [
            row.label.clone(),
            format!("{:.2}", row.spend.micros() as f64 / 1_000_000.0),
            row.requests.to_string(),
            row.tokens_in.to_string(),
            row.tokens_out.to_string(),
            refusals,
            format!("{}.{}", share / 10, share % 10),
        ];
        line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

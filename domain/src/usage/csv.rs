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
    for row in report.rows.iter().chain(std::iter::once(&report.total)) {
        let share = row.share_permille(report.total.spend);
        let cells = [
            row.label.clone(),
            format!("{:.2}", row.spend.micros() as f64 / 1_000_000.0),
            row.requests.to_string(),
            row.tokens_in.to_string(),
            row.tokens_out.to_string(),
            row.refusals.to_string(),
            format!("{}.{}", share / 10, share % 10),
        ];
        line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

//! The audit log as CSV ([`crate::csv`]): one header line, then one line per entry, exactly the
//! columns the page shows.

use super::{AuditRow, action_label};
use crate::csv::line;

/// The header line's columns.
pub const COLUMNS: [&str; 6] = [
    "when_utc",
    "who",
    "action",
    "action_code",
    "on",
    "what_changed",
];

/// `rows` as a CSV document, header first, lines ending in CRLF.
pub fn to_csv(rows: &[AuditRow]) -> String {
    let mut out = String::new();
    line(&mut out, COLUMNS.iter().copied());
    for r in rows {
        let when = r.at.format("%Y-%m-%d %H:%M:%S").to_string();
        line(
            &mut out,
            [
                when.as_str(),
                r.actor_email.as_str(),
                action_label(&r.action),
                r.action.as_str(),
                r.target.as_str(),
                r.detail.as_str(),
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let row = AuditRow {
            id: 1,
            at: Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap(),
            actor_email: "=HYPERLINK(\"x\")@evil.example".into(),
            action: "team.edit".into(),
            target: "team:2".into(),
            detail: "Research, limit $1,000.00\nsecond line".into(),
        };
        let csv = to_csv(&[row]);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("\"when_utc\",\"who\",\"action\",\"action_code\",\"on\",\"what_changed\"")
        );
        assert_eq!(
            lines.next(),
            Some(
                "\"2026-11-30 09:05:00\",\"'=HYPERLINK(\"\"x\"\")@evil.example\",\
                 \"Edited a team\",\"team.edit\",\"team:2\",\
                 \"Research, limit $1,000.00\nsecond line\""
            )
        );
    }
}

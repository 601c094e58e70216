//! The audit log as CSV (RFC 4180): one header line, then one line per entry, exactly the
//! columns the page shows. Every cell is quoted — so a spreadsheet that splits on `;` (Excel in
//! many locales) still sees one cell — and a cell a spreadsheet would read as a formula (`=`,
//! `+`, `-`, `@` or their full-width forms first, after any spaces, or a tab or line break
//! first) is written with a `'` before it, so an email or a team name cannot run anything in
//! whoever opens the export.

use super::{AuditRow, action_label};

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

fn line<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell_text(cell));
    }
    out.push_str("\r\n");
}

fn cell_text(cell: &str) -> String {
    let formula = matches!(cell.chars().next(), Some('\t' | '\r' | '\n'))
        || matches!(
            cell.trim_start().chars().next(),
            Some('=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
        );
    let guarded = if formula {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
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
        for sly in ["  =1+1", "a;=cmd", "＝1", "\t=1", "-2"] {
            let text = cell_text(sly);
            assert!(text.starts_with('"') && text.ends_with('"'), "{text}");
            if sly != "a;=cmd" {
                assert!(text.starts_with("\"'"), "{sly:?} → {text}");
            }
        }
    }
}

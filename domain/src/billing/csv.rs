//! A month's statement as CSV ([`crate::csv`]) for chargeback: one line per team, then one per
//! model, then the total — exact to the micro-dollar.

use super::{Statement, StatementLine};
use crate::csv::line;
use crate::money::Money;

/// `statement` as a CSV document: `section,name,spend_usd,requests`.
pub fn statement_csv(statement: &Statement) -> String {
    let mut out = String::new();
    line(
        &mut out,
        ["month", "section", "name", "spend_usd", "requests"],
    );
    let month = statement.month.as_param();
    let sections = [("team", &statement.teams), ("model", &statement.models)];
    for (section, lines) in sections {
        for l in lines.iter() {
            write_line(&mut out, &month, section, l);
        }
    }
    write_line(&mut out, &month, "total", &statement.total);
    out
}

fn write_line(out: &mut String, month: &str, section: &str, l: &StatementLine) {
    let cells = [
        month.to_owned(),
        section.to_owned(),
        l.label.clone(),
        exact_usd(l.spend),
        l.requests.to_string(),
    ];
    line(out, cells.iter().map(String::as_str));
}

/// Dollars to the micro-dollar: `12.345678`.
fn exact_usd(m: Money) -> String {
    let micros = m.micros();
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::StatementMonth;

    fn l(label: &str, micros: i64, requests: i64) -> StatementLine {
        StatementLine {
            label: label.into(),
            departed: false,
            spend: Money(micros),
            requests,
        }
    }

    #[test]
    fn lines_are_teams_then_models_then_the_total_exact_to_the_micro_dollar() {
        let statement = Statement {
            month: StatementMonth(202_611),
            teams: vec![l("=Research", 3_300_001, 3)],
            models: vec![l("gpt-4o", 3_300_001, 3)],
            total: l("Total", 3_300_001, 3),
            current: false,
        };
        assert_eq!(
            statement_csv(&statement),
            "\"month\",\"section\",\"name\",\"spend_usd\",\"requests\"\r\n\
             \"2026-11\",\"team\",\"'=Research\",\"3.300001\",\"3\"\r\n\
             \"2026-11\",\"model\",\"gpt-4o\",\"3.300001\",\"3\"\r\n\
             \"2026-11\",\"total\",\"Total\",\"3.300001\",\"3\"\r\n"
        );
    }
}

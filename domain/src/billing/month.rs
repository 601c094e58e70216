//! A statement's month: `year * 100 + month` in storage, `2026-11` in URLs, "November 2026" on
//! the page.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StatementMonth(pub i32);

impl StatementMonth {
    /// The month `date` falls in.
    pub fn of(date: NaiveDate) -> Self {
        Self(date.year() * 100 + i32::try_from(date.month()).unwrap_or(1))
    }

    /// `2026-11` as typed in a URL; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (year, month) = text.trim().split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let (year, month): (i32, u32) = (year.parse().ok()?, month.parse().ok()?);
        NaiveDate::from_ymd_opt(year, month, 1).map(Self::of)
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.0 / 100, u32::try_from(self.0 % 100).unwrap_or(1), 1)
            .unwrap_or_default()
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        let first = self.first_day();
        first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|next| next.pred_opt())
            .unwrap_or(first)
    }

    /// `2026-11`, for URLs and file names.
    pub fn as_param(self) -> String {
        format!("{:04}-{:02}", self.0 / 100, self.0 % 100)
    }
}

/// "November 2026".
pub fn month_label(month: StatementMonth) -> String {
    month.first_day().format("%B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_read_and_write_as_in_urls() {
        let m = StatementMonth::parse("2026-02").unwrap();
        assert_eq!(m, StatementMonth(202_602));
        assert_eq!(m.as_param(), "2026-02");
        assert_eq!(m.last_day(), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert_eq!(month_label(m), "February 2026");
        for bad in ["2026-13", "2026-1", "26-01", "", "2026/01", "abcd-01"] {
            assert_eq!(StatementMonth::parse(bad), None, "{bad}");
        }
    }
}

//! What the list pages' URLs (users, teams, keys) share: the search text, the page number, the
//! sort direction and what clicking a column header does, and percent-encoding. Malformed
//! values fall back to defaults, so a hand-edited URL never breaks a page.

use crate::Error;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The longest search text: the `q` parameter keeps this much of what it is given; a list
/// service asked for more (a direct call) refuses it.
pub const SEARCH_MAX: usize = 100;

/// Rows per page, on every list.
pub const PER_PAGE: u64 = 50;

/// The last page a list serves (50 rows a page: 50 million rows in). A database offset holds
/// at most `i64::MAX`; a page past this is read as this one.
pub const PAGE_MAX: u64 = 1_000_000;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

impl SortDir {
    pub fn as_str(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }

    pub fn flipped(self) -> Self {
        match self {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        }
    }

    /// From the `dir` parameter: `desc`, or ascending.
    pub fn from_param(raw: Option<String>) -> Self {
        match raw.as_deref() {
            Some("desc") => SortDir::Desc,
            _ => SortDir::Asc,
        }
    }

    /// The direction after a click on a column header: the sorted column flips, another
    /// column starts ascending.
    pub fn after_click(self, same_column: bool) -> Self {
        if same_column {
            self.flipped()
        } else {
            SortDir::Asc
        }
    }
}

/// The `q` parameter: trimmed, at most [`SEARCH_MAX`] characters.
pub fn search_param(raw: Option<String>) -> String {
    raw.unwrap_or_default()
        .trim()
        .chars()
        .take(SEARCH_MAX)
        .collect()
}

/// The `page` parameter: 1-based; anything else is page 1, and a page past [`PAGE_MAX`] is
/// [`PAGE_MAX`].
pub fn page_param(raw: Option<String>) -> u64 {
    raw.and_then(|p| p.parse::<u64>().ok())
        .map_or(1, clamp_page)
}

/// A requested page as a list reads it: page 0 is the first, a page past [`PAGE_MAX`] is
/// [`PAGE_MAX`] (a list then answers its last page when it knows it).
pub fn clamp_page(page: u64) -> u64 {
    page.clamp(1, PAGE_MAX)
}

/// How many pages `matching` rows fill: at least one, so an empty list still has its page 1.
pub fn page_count(matching: u64) -> u64 {
    Ord::max(matching.div_ceil(PER_PAGE), 1)
}

/// The page a list of `matching` rows serves when asked for `requested`: [`clamp_page`]d, and
/// its last page when asked for one past it.
pub fn page_served(requested: u64, matching: u64) -> u64 {
    Ord::min(clamp_page(requested), page_count(matching))
}

/// How many rows come before page `page` (a [`clamp_page`]d page): where its window starts.
pub fn page_offset(page: u64) -> u64 {
    (clamp_page(page) - 1) * PER_PAGE
}

/// The 1-based positions of the first and last of the `rows` rows page `page` shows ("51–100"),
/// or `None` when it shows none.
pub fn rows_shown(page: u64, rows: u64) -> Option<(u64, u64)> {
    let first = page_offset(page) + 1;
    (rows > 0).then(|| (first, first + rows - 1))
}

/// A list's search text, checked: at most [`SEARCH_MAX`] characters once trimmed.
///
/// # Errors
/// [`Error::Validation`] on `search` when it is longer.
pub fn check_search(search: &str) -> Result<(), Error> {
    if search.trim().chars().count() > SEARCH_MAX {
        return Err(Error::validation(
            "search",
            format!("Search is at most {SEARCH_MAX} characters."),
        ));
    }
    // No name or email holds them, and PostgreSQL refuses a NUL in text outright.
    if search.chars().any(char::is_control) {
        return Err(Error::validation(
            "search",
            "Search cannot hold control characters.",
        ));
    }
    Ok(())
}

/// Reads a list query's `page` from whatever number (or numeric text) a caller sent: negative,
/// fractional or past `u64` included, as the nearest page [`clamp_page`] allows. The lists'
/// server functions take JSON from any client; a page they cannot read would fail the whole
/// call before the list is asked.
///
/// # Errors
/// The deserializer's error for a value that is not a number, numeric text or null.
pub fn lenient_page<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(PageVisitor)
}

struct PageVisitor;

impl serde::de::Visitor<'_> for PageVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a page number")
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(clamp_page(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
        Ok(clamp_page(u64::try_from(v).unwrap_or(0)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
        // `as` saturates (and reads NaN as 0): 1e300 is the last page, -5.5 the first.
        Ok(clamp_page(v as u64))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
        Ok(v.trim().parse::<f64>().map_or(1, |p| clamp_page(p as u64)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<u64, E> {
        Ok(1)
    }
}

/// Percent-encodes a query value.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as ValueError;

    fn page<'a>(value: impl IntoDeserializer<'a, ValueError>) -> u64 {
        lenient_page(value.into_deserializer()).unwrap()
    }

    #[test]
    fn any_number_is_read_as_the_nearest_page() {
        assert_eq!(page(3_u64), 3);
        assert_eq!(page(0_u64), 1);
        assert_eq!(page(-7_i64), 1);
        assert_eq!(page(i64::MIN), 1);
        assert_eq!(page(u64::MAX), PAGE_MAX);
        assert_eq!(page(1e300_f64), PAGE_MAX);
        assert_eq!(page(f64::NAN), 1);
        assert_eq!(page(2.5_f64), 2);
        assert_eq!(page(-5.5_f64), 1);
        assert_eq!(page("4"), 4);
        assert_eq!(page("junk"), 1);
        assert_eq!(page(()), 1);
        assert!(lenient_page(true.into_deserializer() as serde::de::value::BoolDeserializer<ValueError>).is_err());
    }

    #[test]
    fn the_url_parameter_is_clamped_too() {
        assert_eq!(page_param(Some("0".into())), 1);
        assert_eq!(page_param(Some("-1".into())), 1);
        assert_eq!(page_param(Some("abc".into())), 1);
        assert_eq!(page_param(Some("99999999999".into())), PAGE_MAX);
        assert_eq!(page_param(Some("12".into())), 12);
    }

    #[test]
    fn pages_are_counted_clamped_and_placed() {
        assert_eq!(page_count(0), 1);
        assert_eq!(page_count(1), 1);
        assert_eq!(page_count(PER_PAGE), 1);
        assert_eq!(page_count(PER_PAGE + 1), 2);
        assert_eq!(page_served(0, 0), 1);
        assert_eq!(page_served(3, 10 * PER_PAGE), 3);
        assert_eq!(page_served(99, 2 * PER_PAGE), 2);
        assert_eq!(page_served(u64::MAX, u64::MAX), PAGE_MAX);
        assert_eq!(page_offset(1), 0);
        assert_eq!(page_offset(0), 0);
        assert_eq!(page_offset(3), 2 * PER_PAGE);
        assert_eq!(page_offset(PAGE_MAX), (PAGE_MAX - 1) * PER_PAGE);
        assert_eq!(rows_shown(1, 0), None);
        assert_eq!(rows_shown(1, 7), Some((1, 7)));
        assert_eq!(rows_shown(2, PER_PAGE), Some((PER_PAGE + 1, 2 * PER_PAGE)));
    }

    #[test]
    fn searches_past_the_limit_are_refused() {
        assert!(check_search(&"a".repeat(SEARCH_MAX)).is_ok());
        assert!(check_search(&format!("  {}  ", "a".repeat(SEARCH_MAX))).is_ok());
        let err = check_search(&"a".repeat(SEARCH_MAX + 1)).unwrap_err();
        assert_eq!(
            err.message_for("search").as_deref(),
            Some("Search is at most 100 characters.")
        );
        let nul = check_search("ada\0").unwrap_err();
        assert_eq!(
            nul.message_for("search").as_deref(),
            Some("Search cannot hold control characters.")
        );
    }
}

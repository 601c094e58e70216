//! What the list pages' URLs (users, teams, keys) share: the search text, the page number, the
//! sort direction and what clicking a column header does, and percent-encoding. Malformed
//! values fall back to defaults, so a hand-edited URL never breaks a page.

use serde::{Deserialize, Serialize};

/// The longest search text used; the rest is ignored.
pub const SEARCH_MAX: usize = 100;

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

/// The `page` parameter: 1-based; anything else is page 1.
pub fn page_param(raw: Option<String>) -> u64 {
    raw.and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
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

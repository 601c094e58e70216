//! The line under a list: what range is shown, and Previous / Next links (plain links, so paging
//! works with JavaScript off). It works its pages out from the total, the page and the rows shown
//! with the lists' own paging rules ([`domain::list_query`]).

use domain::list_query::{page_count, rows_shown};
use domain::numbers::grouped;
use leptos::prelude::*;

#[component]
pub fn Pager(
    /// Rows matching across every page; a lower bound when `at_least` ("500+").
    total: u64,
    /// The page shown, 1-based.
    page: u64,
    /// How many rows it shows.
    rows: usize,
    /// What the rows are, in the plural: "users".
    noun: &'static str,
    /// The address of page `n`.
    href: impl Fn(u64) -> String,
    /// `total` is a lower bound: the list stopped counting there.
    #[prop(optional)]
    at_least: bool,
    /// Whether a page follows, when the server says so (a lower-bound total cannot); otherwise
    /// whether this is before the last page.
    #[prop(optional)]
    has_next: Option<bool>,
) -> impl IntoView {
    let pages = page_count(total);
    let more = if at_least { "+" } else { "" };
    // "51–100 of 1,234 users", "1–50 of 500+ users", "0 users".
    let shown = match rows_shown(page, rows as u64) {
        Some((first, last)) => format!("{first}–{last} of {}{more} {noun}", grouped(total)),
        None => format!("0 {noun}"),
    };
    let position = format!("Page {page} of {pages}{more}");
    let prev = (page > 1).then(|| href(page - 1));
    let next = has_next.unwrap_or(page < pages).then(|| href(page + 1));
    let link = |href: Option<String>, rel: &'static str, label: &'static str| match href {
        Some(h) => view! {
            <a class="btn btn-ghost" href=h rel=rel>
                {label}
            </a>
        }
        .into_any(),
        None => view! {
            <span class="btn btn-ghost" aria-disabled="true">
                {label}
            </span>
        }
        .into_any(),
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted">{shown}</span>
            <span class="pager-links">
                {link(prev, "prev", "Previous")} <span class="muted">{position}</span>
                {link(next, "next", "Next")}
            </span>
        </nav>
    }
}

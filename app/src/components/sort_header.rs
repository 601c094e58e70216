//! A sortable column header: a plain link to the list sorted by this column (so sorting works
//! with JavaScript off), `aria-sort` and a ▲/▼ indicator on the sorted column.

use domain::list_query::SortDir;
use leptos::prelude::*;

#[component]
pub fn SortHeader(
    label: &'static str,
    /// The direction when the list is sorted by this column.
    sorted: Option<SortDir>,
    /// The list sorted by this column (flipped when it already is).
    href: String,
) -> impl IntoView {
    let (aria, indicator) = match sorted {
        Some(SortDir::Asc) => (Some("ascending"), "▲"),
        Some(SortDir::Desc) => (Some("descending"), "▼"),
        None => (None, ""),
    };
    view! {
        <th scope="col" aria-sort=aria>
            <a class="sort-link" href=href>
                {label}
                <span class="sort-indicator" aria-hidden="true">
                    {indicator}
                </span>
            </a>
        </th>
    }
}

//! The line under a list: what range is shown, and Previous / Next links (plain links, so paging
//! works with JavaScript off).

use leptos::prelude::*;

#[component]
pub fn Pager(
    /// "51–100 of 1,234 users".
    shown: String,
    /// "Page 2 of 25".
    position: String,
    prev: Option<String>,
    next: Option<String>,
) -> impl IntoView {
    let link = |href: Option<String>, rel: &'static str, label: &'static str| match href {
        Some(h) => view! { <a class="btn btn-ghost" href=h rel=rel>{label}</a> }.into_any(),
        None => {
            view! { <span class="btn btn-ghost" aria-disabled="true">{label}</span> }.into_any()
        }
    };
    view! {
        <nav class="pager" aria-label="Pages">
            <span class="muted">{shown}</span>
            <span class="pager-links">
                {link(prev, "prev", "Previous")}
                <span class="muted">{position}</span>
                {link(next, "next", "Next")}
            </span>
        </nav>
    }
}

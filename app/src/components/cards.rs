//! Summary cards at the top of a list page.

use leptos::prelude::*;

/// A row of labelled figures.
#[component]
pub fn SummaryCards(cards: Vec<(&'static str, String)>) -> impl IntoView {
    view! {
        <dl class="cards">
            {cards
                .into_iter()
                .map(|(label, value)| {
                    view! {
                        <div class="card">
                            <dt>{label}</dt>
                            <dd>{value}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

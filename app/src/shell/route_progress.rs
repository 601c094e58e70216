//! A thin bar across the top of the window while the router fetches the next page — its piece of
//! the bundle the first time a lazily loaded page is opened — so a click is seen to be taken.
//! It shows only after a short delay (in the stylesheet), so quick navigations do not flash it.

use leptos::prelude::*;

#[component]
pub fn RouteProgress(
    /// Whether a navigation is under way (the router's `set_is_routing`).
    loading: ReadSignal<bool>,
) -> impl IntoView {
    view! {
        <div
            class="route-progress"
            class:route-progress-active=move || loading.get()
            role="progressbar"
            aria-label="Loading the page"
            aria-hidden=move || (!loading.get()).then_some("true")
        ></div>
    }
}

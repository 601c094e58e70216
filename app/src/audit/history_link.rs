//! "History in the audit log": the link from a user's or team's expanded row to the entries on
//! it, shown to those who may read the log.

use domain::Action;
use domain::audit::target_href;
use domain::dto::SessionUser;
use leptos::prelude::*;

/// The link to the history of `kind` (`user`, `team`) `id`, for Owners and Admins; nothing for
/// others.
#[component]
pub fn HistoryLink(kind: &'static str, id: i64) -> impl IntoView {
    let reads = use_context::<SessionUser>().is_some_and(|me| me.actor().can(Action::ReadAudit));
    reads.then(|| {
        view! {
            <p>
                <a class="detail-link" href=target_href(kind, id)>
                    "History in the audit log"
                </a>
            </p>
        }
    })
}

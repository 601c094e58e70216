//! The API keys page (`/dashboard/keys`): my keys, everyone's (Owners and Admins), issuing a key
//! (its secret shown once) and revoking one.

pub mod api;
mod issue;
mod page;

pub use page::KeysPage;

use domain::keys::KeyStatus;
use leptos::prelude::*;

/// A key's status as a coloured badge, here and in the Users page's expanded rows.
#[component]
pub fn KeyStatusBadge(status: KeyStatus) -> impl IntoView {
    view! { <span class=format!("status status-key-{}", status.as_str())>{status.as_str()}</span> }
}

//! The API keys page (`/dashboard/keys`): my keys, everyone's (Owners and Admins), issuing a key
//! (its secret shown once) and revoking one.

pub mod api;
mod issue;
mod limits;
mod page;

pub use page::KeysPage;

use crate::components::Ago;
use chrono::{DateTime, Utc};
use domain::keys::{KeyBlock, KeyRow, KeyStatus};
use leptos::prelude::*;

/// A key's status as a coloured badge, here and in the Users and Teams pages' expanded rows. An
/// active key its owner's role or team keeps from working says so instead, with why on hover.
#[component]
pub fn KeyStatusBadge(status: KeyStatus, blocked: Option<KeyBlock>) -> impl IntoView {
    match blocked {
        Some(block) if status == KeyStatus::Active => view! {
            <span class="status status-key-blocked" title=block.explain()>
                {block.label()}
            </span>
        }
        .into_any(),
        _ => view! { <span class=format!("status status-key-{}", status.as_str())>{status.as_str()}</span> }
            .into_any(),
    }
}

/// A compact list of keys, as the Users and Teams pages' expanded rows show them (never the
/// secret). `owners` adds the Owner column (a team's keys belong to several people).
#[component]
pub fn KeyList(
    keys: Vec<KeyRow>,
    now: DateTime<Utc>,
    #[prop(optional)] owners: bool,
) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="muted">"No API keys."</p> }.into_any();
    }
    view! {
        <table class="mini-table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Prefix"</th>
                    {owners.then(|| view! { <th scope="col">"Owner"</th> })}
                    <th scope="col">"Created"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {keys
                    .into_iter()
                    .map(|k| {
                        view! {
                            <tr>
                                <td>{k.name}</td>
                                <td>
                                    <code>{k.prefix}"…"</code>
                                </td>
                                {owners
                                    .then(|| {
                                        view! {
                                            <td>
                                                {k
                                                    .owner
                                                    .map_or_else(
                                                        || "(deleted user)".to_owned(),
                                                        |(_, email)| email,
                                                    )}
                                            </td>
                                        }
                                    })}
                                <td>
                                    <Ago at=Some(k.created_at) now />
                                </td>
                                <td>
                                    <Ago at=k.last_used_at now />
                                </td>
                                <td>
                                    <KeyStatusBadge status=k.status blocked=k.blocked />
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

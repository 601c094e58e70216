//! Create key: name, optional expiry date, (Owners and Admins) team, and optional limits. The
//! secret is shown exactly once, with a Copy button and a warning.

use super::api::IssueKey;
use super::limits::{LIMIT_FIELDS, LimitFields};
use crate::components::{CopyField, Field, FormAlert, FormErrors, Modal, succeeded};
use crate::users::api::team_options;
use domain::keys::KEY_NAME_MAX;
use leptos::prelude::*;

#[component]
pub fn IssueDialog(
    open: RwSignal<bool>,
    /// Owners and Admins pick the key's team; Members' keys belong to their own team.
    picks_team: bool,
    /// The page's issue action: the keys list reloads when it finishes.
    action: ServerAction<IssueKey>,
) -> impl IntoView {
    let errors = FormErrors::new(
        action,
        &[
            "name",
            "expires",
            "team",
            "budget",
            "requests_per_minute",
            "tokens_per_minute",
            "models",
        ],
    );
    let teams = Resource::new(
        move || open.get() && picks_team,
        |wanted| async move {
            if wanted {
                team_options().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        },
    );
    let issued = succeeded(action);
    // Opening the dialog again starts a fresh form, and closing it forgets the secret.
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if is_open != was_open.unwrap_or(is_open) {
            action.clear();
        }
        is_open
    });
    let pending = action.pending();
    view! {
        <Modal open title=Signal::derive(|| "Create an API key".to_owned())>
            {move || match issued.get() {
                Some(key) => {
                    view! {
                        <div class="secret-notice" role="status">
                            <p>
                                <strong>"Copy this key now."</strong>
                                " It is shown only this once; Tollgate keeps only a fingerprint of it and cannot show it again."
                            </p>
                        </div>
                        <p class="muted">
                            {format!(
                                "Key “{}” ({}…) is ready.",
                                key.key.name,
                                key.key.prefix,
                            )}
                        </p>
                        <CopyField value=key.secret label="API key" />
                        <div class="modal-actions">
                            <button
                                type="button"
                                class="btn btn-primary"
                                on:click=move |_| open.set(false)
                            >
                                "Done"
                            </button>
                        </div>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <ActionForm action=action attr:class="form form-tight">
                            <FormAlert message=errors.form() />
                            <Field
                                label="Name"
                                name="name"
                                required=true
                                autofocus=true
                                maxlength=KEY_NAME_MAX
                                hint="What uses it, e.g. “CI pipeline”."
                                error=errors.field("name")
                            />
                            <Field
                                label="Expires (optional)"
                                name="expires"
                                kind="date"
                                hint="The key works through this day (UTC). Leave empty for no expiry."
                                error=errors.field("expires")
                            />
                            {if picks_team {
                                view! {
                                    <div
                                        class="field"
                                        class:field-invalid=move || {
                                            errors.field("team").get().is_some()
                                        }
                                    >
                                        <label for="key-team">"Team"</label>
                                        <select id="key-team" name="team" class="input">
                                            <option value="">"My team (or none)"</option>
                                            <Suspense fallback=|| ()>
                                                {move || Suspend::new(async move {
                                                    teams
                                                        .await
                                                        .into_iter()
                                                        .map(|(id, name)| {
                                                            view! { <option value=id.0.to_string()>{name}</option> }
                                                        })
                                                        .collect_view()
                                                })}
                                            </Suspense>
                                        </select>
                                        {move || {
                                            errors
                                                .field("team")
                                                .get()
                                                .map(|e| view! { <p class="field-error">{e}</p> })
                                        }}
                                    </div>
                                }
                                    .into_any()
                            } else {
                                view! { <input type="hidden" name="team" value="" /> }.into_any()
                            }}
                            <details
                                class="limits-more"
                                open=move || {
                                    LIMIT_FIELDS
                                        .into_iter()
                                        .any(|f| errors.field(f).get().is_some())
                                }
                            >
                                <summary>"Limits (optional)"</summary>
                                <LimitFields current=Default::default() errors />
                            </details>
                            <div class="modal-actions">
                                <button
                                    type="button"
                                    class="btn btn-ghost"
                                    on:click=move |_| open.set(false)
                                >
                                    "Cancel"
                                </button>
                                <button
                                    type="submit"
                                    class="btn btn-primary"
                                    disabled=move || pending.get()
                                >
                                    {move || {
                                        if pending.get() { "Creating…" } else { "Create key" }
                                    }}
                                </button>
                            </div>
                        </ActionForm>
                    }
                        .into_any()
                }
            }}
        </Modal>
    }
}

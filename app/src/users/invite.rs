//! Invite User: email, role (only those the actor may grant) and team. With a mail server the
//! invite is emailed; without one (or when sending fails) the link is shown once, with a Copy
//! button.

use super::api::{InviteUser, team_options};
use crate::components::{CopyField, Field, FormAlert, FormErrors, Modal, succeeded};
use domain::{Action, Actor, Role};
use leptos::prelude::*;

#[component]
pub fn InviteDialog(
    open: RwSignal<bool>,
    actor: Option<Actor>,
    /// The page's invite action: the users list reloads when it finishes.
    action: ServerAction<InviteUser>,
) -> impl IntoView {
    let teams = Resource::new(
        move || open.get(),
        |is_open| async move {
            if is_open {
                team_options().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        },
    );
    let roles: Vec<Role> = [Role::Admin, Role::Member, Role::Viewer]
        .into_iter()
        .filter(|role| actor.is_some_and(|a| a.can(Action::Invite { role: *role })))
        .collect();
    let errors = FormErrors::new(action, &["email", "team"]);
    let field = move |name| errors.field(name);
    let form_error = errors.form();
    let invited = succeeded(action);
    // Opening the dialog again starts a fresh form.
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if is_open && was_open == Some(false) {
            action.clear();
        }
        is_open
    });
    let pending = action.pending();
    let roles = StoredValue::new(roles);

    view! {
        <Modal open title=Signal::derive(|| "Invite a user".to_owned())>
            {move || match invited.get() {
                Some(outcome) => {
                    view! {
                        <p>
                            {format!(
                                "{} is invited as {}.",
                                outcome.user.email,
                                outcome.user.role.label(),
                            )}
                        </p>
                        {match outcome.link() {
                            Some((link, mail_error)) => {
                                view! { <LinkNotice link mail_error /> }.into_any()
                            }
                            None => {
                                view! {
                                    <p class="muted">
                                        "The invite was emailed to them. The link in it works once, for 7 days."
                                    </p>
                                }
                                    .into_any()
                            }
                        }}
                        <div class="modal-actions">
                            <button
                                type="button"
                                class="btn btn-ghost"
                                on:click=move |_| action.clear()
                            >
                                "Invite another"
                            </button>
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
                            <FormAlert message=form_error />
                            <Field
                                label="Email"
                                name="email"
                                kind="email"
                                required=true
                                autofocus=true
                                error=field("email")
                            />
                            <div class="field">
                                <label for="invite-role">"Role"</label>
                                <select id="invite-role" name="role" class="input">
                                    {roles
                                        .get_value()
                                        .into_iter()
                                        .map(|r| {
                                            view! {
                                                <option value=r.as_str() selected=r == Role::Member>
                                                    {r.label()}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </div>
                            <div
                                class="field"
                                class:field-invalid=move || field("team").get().is_some()
                            >
                                <label for="invite-team">"Team"</label>
                                <select id="invite-team" name="team" class="input">
                                    <option value="">"No team"</option>
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
                                    field("team")
                                        .get()
                                        .map(|e| view! { <p class="field-error">{e}</p> })
                                }}
                            </div>
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
                                        if pending.get() { "Inviting…" } else { "Send invite" }
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

/// The invite link, shown once, with a Copy button; `mail_error` says why it was not emailed.
#[component]
pub fn LinkNotice(link: String, mail_error: Option<String>) -> impl IntoView {
    let why = match mail_error {
        Some(reason) => {
            format!("The invite email could not be sent ({reason}), so pass this link on yourself.")
        }
        None => "No mail server is set up, so pass this link on yourself.".to_owned(),
    };
    view! {
        <div class="link-notice">
            <p class="muted">{why}" It works once, for 7 days, and is not shown again."</p>
            <CopyField value=link label="Invite link" />
        </div>
    }
}

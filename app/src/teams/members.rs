//! The members part of a team's expanded row: who is in the team and, for those who manage
//! teams, adding someone by email and taking someone out. Changes show on the Users page too:
//! both go through the same assignment.

use super::api::{AddTeamMember, RemoveTeamMember, team_members};
use crate::components::{FormAlert, FormErrors};
use crate::list_page::{ListChanges, use_list_page};
use domain::TeamId;
use domain::teams::TeamMember;
use domain::{Status, UserId};
use leptos::prelude::*;

#[component]
pub fn TeamMembers(
    team: TeamId,
    team_name: String,
    manages: bool,
    /// After a member is added or removed: the row's member count and the cards change too.
    on_change: Callback<()>,
) -> impl IntoView {
    let add = ServerAction::<AddTeamMember>::new();
    let remove = ServerAction::<RemoveTeamMember>::new();
    let removed_from = team_name.clone();
    let changes = ListChanges::new()
        .toasted_on_success(add, move |member| {
            format!("{} is now in {team_name}.", member.name)
        })
        .toasted(remove, move |()| format!("Removed from {removed_from}."));
    let members = use_list_page(move || team, changes, team_members);

    let errors = FormErrors::new(add, &["email"]);
    let email = RwSignal::new(String::new());
    Effect::new(move |_| {
        if add.value().with(|v| matches!(v, Some(Ok(_)))) {
            email.set(String::new());
            on_change.run(());
        }
    });
    // Every finished removal (a refusal too) reads the team's row again.
    Effect::new(move |_| {
        if remove.version().get() > 0 {
            on_change.run(());
        }
    });
    let removing = move |who: UserId| {
        remove.pending().get() && remove.input().get().map(|i| i.user) == Some(who)
    };

    let input_id = format!("add-member-{}", team.0);
    let error_id = format!("{input_id}-error");
    let described = error_id.clone();
    let add_form = manages.then(|| {
        view! {
            <ActionForm action=add attr:class="member-add">
                <input type="hidden" name="id" value=team.0.to_string() />
                <div
                    class="field"
                    class:field-invalid=move || errors.field("email").get().is_some()
                >
                    <label for=input_id.clone()>"Add a member by email"</label>
                    <div class="member-add-row">
                        <input
                            id=input_id.clone()
                            class="input"
                            type="email"
                            name="email"
                            required
                            autocomplete="off"
                            placeholder="name@example.com"
                            aria-invalid=move || {
                                errors.field("email").get().is_some().then_some("true")
                            }
                            aria-describedby=move || {
                                errors.field("email").get().is_some().then(|| described.clone())
                            }
                            prop:value=move || email.get()
                            on:input=move |ev| email.set(event_target_value(&ev))
                        />
                        <button
                            type="submit"
                            class="btn btn-small"
                            disabled=move || add.pending().get()
                        >
                            {move || if add.pending().get() { "Adding…" } else { "Add" }}
                        </button>
                    </div>
                    {move || {
                        errors
                            .field("email")
                            .get()
                            .map(|e| {
                                view! {
                                    <p class="field-error" id=error_id.clone()>
                                        {e}
                                    </p>
                                }
                            })
                    }}
                </div>
                <FormAlert message=errors.form() />
            </ActionForm>
        }
    });

    view! {
        <h3 class="detail-title">"Members"</h3>
        <Transition fallback=|| {
            view! {
                <p class="muted" aria-busy="true">
                    "Loading members…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match members.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="muted">"Nobody is in this team yet."</p> }.into_any()
                    }
                    Ok(list) => {
                        view! {
                            <ul class="member-list">
                                {list
                                    .into_iter()
                                    .map(|m| member_item(m, manages, team, remove, removing))
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="alert alert-error" role="alert">
                                {e.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
        {add_form}
    }
}

fn member_item(
    m: TeamMember,
    manages: bool,
    team: TeamId,
    remove: ServerAction<RemoveTeamMember>,
    removing: impl Fn(UserId) -> bool + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let who = m.id;
    let invited = (m.status == Status::Invited).then_some(" · invite pending");
    let suspended = (m.status == Status::Suspended).then_some(" · suspended");
    view! {
        <li class="member">
            <span class="member-name">{m.name.clone()}</span>
            <span class="muted member-email">{m.email.clone()}</span>
            <span class="muted">{m.role.label()}{invited}{suspended}</span>
            {manages
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="btn btn-small btn-ghost btn-danger-text"
                            aria-label=format!("Remove {} from the team", m.name)
                            disabled=move || removing(who)
                            on:click=move |_| {
                                remove
                                    .dispatch(RemoveTeamMember {
                                        id: team,
                                        user: who,
                                    });
                            }
                        >
                            {move || if removing(who) { "Removing…" } else { "Remove" }}
                        </button>
                    }
                })}
        </li>
    }
}

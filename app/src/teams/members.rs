//! The members part of a team's expanded row: who is in the team and what each spent against
//! their budget and, for those who manage teams, adding someone by email, taking someone out and
//! setting someone's own budget. Changes show on the Users page too: both go through the same
//! assignment.

use super::api::{AddTeamMember, RemoveTeamMember, SetMemberBudget, team_members};
use super::member_budget::MemberBudgetDialog;
use crate::components::{FormAlert, FormErrors, MemberBudgetUse};
use crate::list_page::{ListChanges, use_list_page};
use domain::dto::SessionUser;
use domain::teams::TeamMember;
use domain::{Action, Actor, Status, Subject, TeamId, UserId};
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
    let set_budget = ServerAction::<SetMemberBudget>::new();
    let removed_from = team_name.clone();
    let changes = ListChanges::new()
        .toasted_on_success(add, move |member| {
            format!("{} is now in {team_name}.", member.name)
        })
        .toasted(remove, move |()| format!("Removed from {removed_from}."))
        .toasted_on_success(set_budget, |member| match member.budget.own {
            Some(own) => format!("{}'s budget is now {own} a month.", member.name),
            None => format!("{} is back on the team's default budget.", member.name),
        });
    let actor = use_context::<SessionUser>().map(|me| me.actor());
    let budget_of = RwSignal::new(None::<TeamMember>);
    let budget_open = RwSignal::new(false);
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
                                    .map(|m| {
                                        let acts_on = may_act_on(actor, &m);
                                        member_item(
                                            m,
                                            team,
                                            remove,
                                            removing,
                                            acts_on.then_some((budget_of, budget_open)),
                                        )
                                    })
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
        {move || {
            budget_of
                .get()
                .map(|member| {
                    view! { <MemberBudgetDialog open=budget_open team member action=set_budget /> }
                })
        }}
        {add_form}
    }
}

/// Whether the signed-in person may take `m` out of the team and set their own budget: one
/// rule (the server decides again).
fn may_act_on(actor: Option<Actor>, m: &TeamMember) -> bool {
    let target = Subject {
        id: m.id,
        role: m.role,
        status: m.status,
        is_last_active_owner: false,
    };
    actor.is_some_and(|a| a.can(Action::AssignTeam { target }))
}

fn member_item(
    m: TeamMember,
    team: TeamId,
    remove: ServerAction<RemoveTeamMember>,
    removing: impl Fn(UserId) -> bool + Copy + Send + Sync + 'static,
    // Set when the signed-in person may act on this member (take them out, set their
    // budget): the budget dialog's member and whether it is open.
    budget: Option<(RwSignal<Option<TeamMember>>, RwSignal<bool>)>,
) -> impl IntoView {
    let who = m.id;
    let manages = budget.is_some();
    let budget_button = budget.map(|(of, open)| {
        let member = m.clone();
        view! {
            <button
                type="button"
                class="btn btn-small btn-ghost"
                aria-label=format!("Budget of {}", m.name)
                on:click=move |_| {
                    of.set(Some(member.clone()));
                    open.set(true);
                }
            >
                "Budget"
            </button>
        }
    });
    let invited = (m.status == Status::Invited).then_some(" · invite pending");
    let suspended = (m.status == Status::Suspended).then_some(" · suspended");
    view! {
        <li class="member">
            <span class="member-who">
                <span class="member-name">{m.name.clone()}</span>
                <span class="muted member-email">{m.email.clone()}</span>
                <span class="muted">{m.role.label()}{invited}{suspended}</span>
            </span>
            <MemberBudgetUse budget=m.budget />
            <span class="member-actions">
                {budget_button}
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
            </span>
        </li>
    }
}

//! One user's row: their columns, the actions the signed-in person may take on them, and the
//! details that expanding the row shows.

use super::api::{
    ChangeUserRole, ChangeUserTeam, DeleteUser, ReactivateUser, ResendInvite, SuspendUser,
    load_user_detail, team_options,
};
use crate::audit::HistoryLink;
use crate::components::{Ago, ConfirmDialog, MemberBudgetUse, Modal};
use crate::keys::KeyList;
use chrono::{DateTime, Utc};
use domain::users::{UserDetail, UserRow};
use domain::{Action, Actor, Role, Status, Subject};
use leptos::prelude::*;

/// The page's server actions, shared by every row.
#[derive(Clone, Copy)]
pub struct RowActions {
    pub change_role: ServerAction<ChangeUserRole>,
    pub change_team: ServerAction<ChangeUserTeam>,
    pub suspend: ServerAction<SuspendUser>,
    pub reactivate: ServerAction<ReactivateUser>,
    pub resend: ServerAction<ResendInvite>,
    pub delete: ServerAction<DeleteUser>,
}

/// What the signed-in person may do to this row's user. The server decides again on every call;
/// this only hides what it would refuse. (The last-Owner guard needs a count only the server
/// has, so those buttons show and the server's refusal is shown as it is.)
struct Allowed {
    change_role: bool,
    change_team: bool,
    suspend: bool,
    reactivate: bool,
    resend: bool,
    delete: bool,
}

fn allowed(actor: Option<Actor>, row: &UserRow) -> Allowed {
    let target = Subject {
        id: row.id,
        role: row.role,
        status: row.status,
        is_last_active_owner: false,
    };
    let can = |action| actor.is_some_and(|a| a.can(action));
    Allowed {
        change_role: Role::ALL
            .into_iter()
            .any(|to| to != row.role && can(Action::ChangeRole { target, to })),
        change_team: can(Action::AssignTeam { target }),
        suspend: can(Action::Suspend { target }),
        reactivate: can(Action::Reactivate { target }),
        resend: row.status == Status::Invited && can(Action::ManageInvite { target }),
        delete: can(Action::Delete { target }),
    }
}

impl Allowed {
    fn any(&self) -> bool {
        self.change_role
            || self.change_team
            || self.suspend
            || self.reactivate
            || self.resend
            || self.delete
    }
}

#[component]
pub fn UserRowView(
    row: UserRow,
    now: DateTime<Utc>,
    actor: Option<Actor>,
    actions: RowActions,
) -> impl IntoView {
    let may = allowed(actor, &row);
    let id = row.id;
    let expanded = RwSignal::new(false);
    let editing = RwSignal::new(false);
    let role_dialog = RwSignal::new(false);
    let team_dialog = RwSignal::new(false);
    // The delete confirmation sits beside the menu, not in it (so not a `ConfirmButton`): the
    // menu closes as the dialog opens, and a closed `<details>` hides all it holds.
    let confirm_delete = RwSignal::new(false);
    let detail_id = format!("user-detail-{id}");
    let who = row.name.clone().unwrap_or_else(|| row.email.clone());
    let busy = move || {
        let is = |input: Option<domain::UserId>| input == Some(id);
        is(actions.change_role.input().get().map(|i| i.id))
            || is(actions.change_team.input().get().map(|i| i.id))
            || is(actions.suspend.input().get().map(|i| i.id))
            || is(actions.reactivate.input().get().map(|i| i.id))
            || is(actions.resend.input().get().map(|i| i.id))
            || is(actions.delete.input().get().map(|i| i.id))
    };
    let set_role = move |role: Role| {
        editing.set(false);
        role_dialog.set(false);
        actions.change_role.dispatch(ChangeUserRole { id, role });
    };
    let current_role = row.role;
    let name_cell = match row.name.clone() {
        Some(name) => view! { <span class="cell-name">{name}</span> }.into_any(),
        None => view! {
            <span class="cell-name muted">{row.email.clone()}</span>
            <span class="badge badge-pending">"pending"</span>
        }
        .into_any(),
    };
    let role_label = row.role.label();
    let role_class = format!("role-badge role-{}", row.role.as_str());
    let status = row.status;
    let current_team = row.team.as_ref().map(|(id, _)| *id);
    let team = row.team.clone().map(|(_, name)| name);
    let set_team = move |team: String| {
        team_dialog.set(false);
        actions.change_team.dispatch(ChangeUserTeam { id, team });
    };
    let last_active = row.last_active_at;
    let expand_label = format!("Details for {who}");
    let menu_label = format!("Actions for {who}");
    // Owners and Admins manage anyone's keys on the keys page, filtered to this person.
    let keys_href = actor
        .is_some_and(|a| a.can(Action::RevokeAnyKey))
        .then(|| format!("/dashboard/keys?scope=all&user={id}"));
    // The actions sit in a disclosure menu; picking one (or Escape) folds it away.
    let menu = NodeRef::<leptos::html::Details>::new();
    let close_menu = move || {
        if let Some(details) = menu.get_untracked() {
            details.set_open(false);
        }
    };
    let delete_detail = format!(
        "{} will lose access at once. Their API keys are revoked; usage history stays.",
        who
    );

    view! {
        <tr class="row" class:row-busy=busy aria-busy=move || busy().then_some("true")>
            <td class="col-expand">
                <button
                    type="button"
                    class="icon-btn"
                    aria-label=expand_label
                    aria-expanded=move || expanded.get().to_string()
                    aria-controls=detail_id.clone()
                    on:click=move |_| expanded.update(|e| *e = !*e)
                >
                    <span
                        class="chevron"
                        class:chevron-open=move || expanded.get()
                        aria-hidden="true"
                    >
                        "›"
                    </span>
                </button>
            </td>
            <td>{name_cell}</td>
            <td class="cell-email">{row.email.clone()}</td>
            <td>
                {move || {
                    if editing.get() {
                        view! {
                            <RoleSelect
                                current=current_role
                                on_pick=set_role
                                on_cancel=move || editing.set(false)
                            />
                        }
                            .into_any()
                    } else {
                        view! { <span class=role_class.clone()>{role_label}</span> }.into_any()
                    }
                }}
            </td>
            <td>
                <span class=format!("status status-{}", status.as_str())>{status.as_str()}</span>
            </td>
            <td>{team.unwrap_or_else(|| "—".to_owned())}</td>
            <td>
                <Ago at=last_active now />
            </td>
            <td class="col-actions">
                {may
                    .any()
                    .then(|| {
                        view! {
                            <details
                                class="row-menu"
                                node_ref=menu
                                on:keydown=move |ev| {
                                    if ev.key() == "Escape" {
                                        close_menu();
                                    }
                                }
                            >
                                <summary
                                    class="btn btn-small btn-ghost"
                                    aria-label=menu_label.clone()
                                >
                                    "Actions"
                                    <span aria-hidden="true">" ▾"</span>
                                </summary>
                                <div class="menu">
                                    {may
                                        .change_role
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="btn btn-small btn-ghost"
                                                    on:click=move |_| {
                                                        close_menu();
                                                        editing.set(true);
                                                    }
                                                >
                                                    "Edit"
                                                </button>
                                                <button
                                                    type="button"
                                                    class="btn btn-small btn-ghost"
                                                    on:click=move |_| {
                                                        close_menu();
                                                        role_dialog.set(true);
                                                    }
                                                >
                                                    "Change Role"
                                                </button>
                                            }
                                        })}
                                    {may
                                        .change_team
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="btn btn-small btn-ghost"
                                                    on:click=move |_| {
                                                        close_menu();
                                                        team_dialog.set(true);
                                                    }
                                                >
                                                    "Change Team"
                                                </button>
                                            }
                                        })}
                                    {may
                                        .suspend
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="btn btn-small btn-ghost"
                                                    on:click=move |_| {
                                                        close_menu();
                                                        actions.suspend.dispatch(SuspendUser { id });
                                                    }
                                                >
                                                    "Suspend"
                                                </button>
                                            }
                                        })}
                                    {may
                                        .reactivate
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="btn btn-small btn-ghost"
                                                    on:click=move |_| {
                                                        close_menu();
                                                        actions.reactivate.dispatch(ReactivateUser { id });
                                                    }
                                                >
                                                    "Reactivate"
                                                </button>
                                            }
                                        })}
                                    {may
                                        .resend
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="btn btn-small btn-ghost"
                                                    on:click=move |_| {
                                                        close_menu();
                                                        actions.resend.dispatch(ResendInvite { id });
                                                    }
                                                >
                                                    "Resend Invite"
                                                </button>
                                            }
                                        })}
                                    {may
                                        .delete
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="btn btn-small btn-ghost btn-danger-text"
                                                    on:click=move |_| {
                                                        close_menu();
                                                        confirm_delete.set(true);
                                                    }
                                                >
                                                    "Delete"
                                                </button>
                                            }
                                        })}
                                </div>
                            </details>
                        }
                    })}
                <ConfirmDialog
                    open=confirm_delete
                    title=Signal::derive(|| "Delete this user?".to_owned())
                    detail=delete_detail
                    confirm_label="Delete"
                    on_confirm=Callback::new(move |()| {
                        actions.delete.dispatch(DeleteUser { id });
                    })
                />
                <Modal
                    open=role_dialog
                    title=Signal::derive({
                        let email = row.email.clone();
                        move || format!("Change role of {email}")
                    })
                >
                    <ChangeRoleForm
                        current=current_role
                        on_pick=set_role
                        on_cancel=move || role_dialog.set(false)
                    />
                </Modal>
                <Modal
                    open=team_dialog
                    title=Signal::derive(move || format!("Change team of {}", row.email))
                >
                    <Show when=move || team_dialog.get()>
                        <ChangeTeamForm
                            current=current_team
                            on_pick=set_team
                            on_cancel=move || team_dialog.set(false)
                        />
                    </Show>
                </Modal>
            </td>
        </tr>
        <Show when=move || expanded.get()>
            <tr class="detail-row" id=format!("user-detail-{id}")>
                <td colspan="8">
                    <Detail id now keys_href=keys_href.clone() />
                </td>
            </tr>
        </Show>
    }
    .into_any()
}

/// The role cell while editing inline: it takes the focus as it appears (`autofocus` counts
/// only at page load), so the keyboard reaches it at once. Picking with the pointer saves; with
/// the keyboard, the arrows only move through the roles and Enter saves (an arrow key changes a
/// closed `<select>` at once, and each step must not change someone's role). Escape or leaving
/// cancels.
#[component]
fn RoleSelect(
    current: Role,
    on_pick: impl Fn(Role) + Copy + 'static,
    on_cancel: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let select = NodeRef::<leptos::html::Select>::new();
    Effect::new(move |_| {
        if let Some(el) = select.get() {
            let _ = el.focus();
        }
    });
    // Set by a key press, so the change it makes is a step, not a pick.
    let by_key = StoredValue::new(false);
    let picked = StoredValue::new(current);
    let save = move || {
        let role = picked.get_value();
        if role != current {
            on_pick(role)
        } else {
            on_cancel()
        }
    };
    view! {
        <select
            class="input input-small"
            aria-label="Role"
            title="Enter saves, Escape cancels"
            node_ref=select
            on:change=move |ev| {
                if let Ok(role) = event_target_value(&ev).parse::<Role>() {
                    picked.set_value(role);
                    if !by_key.get_value() {
                        save();
                    }
                }
            }
            on:keydown=move |ev| {
                match ev.key().as_str() {
                    "Escape" => on_cancel(),
                    "Enter" => {
                        ev.prevent_default();
                        save();
                    }
                    "Tab" => {}
                    _ => by_key.set_value(true),
                }
            }
            on:pointerdown=move |_| by_key.set_value(false)
            on:blur=move |_| on_cancel()
        >
            {Role::ALL
                .into_iter()
                .map(|r| {
                    view! {
                        <option value=r.as_str() selected=r == current>
                            {r.label()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// The Change Role dialog's body: the full role dropdown and a Save button.
#[component]
fn ChangeRoleForm(
    current: Role,
    on_pick: impl Fn(Role) + Copy + 'static,
    on_cancel: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let picked = RwSignal::new(current);
    view! {
        <div class="field">
            <label for="change-role-select">"Role"</label>
            <select
                id="change-role-select"
                class="input"
                on:change=move |ev| {
                    if let Ok(r) = event_target_value(&ev).parse() {
                        picked.set(r)
                    }
                }
            >
                {Role::ALL
                    .into_iter()
                    .map(|r| {
                        view! {
                            <option value=r.as_str() selected=r == current>
                                {r.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
        <div class="modal-actions">
            <button type="button" class="btn btn-ghost" on:click=move |_| on_cancel()>
                "Cancel"
            </button>
            <button
                type="button"
                class="btn btn-primary"
                disabled=move || picked.get() == current
                on:click=move |_| on_pick(picked.get())
            >
                "Save role"
            </button>
        </div>
    }
}

/// The Change Team dialog's body: every team (or none) and a Save button. The list is read when
/// the dialog opens.
#[component]
fn ChangeTeamForm(
    current: Option<domain::TeamId>,
    on_pick: impl Fn(String) + Copy + Send + Sync + 'static,
    on_cancel: impl Fn() + Copy + 'static,
) -> impl IntoView {
    let teams = Resource::new(|| (), |()| team_options());
    let current_value = current.map(|t| t.to_string()).unwrap_or_default();
    let picked = RwSignal::new(current_value.clone());
    let unchanged = {
        let current_value = current_value.clone();
        move || picked.get() == current_value
    };
    view! {
        <div class="field">
            <label for="change-team-select">"Team"</label>
            <Suspense fallback=|| {
                view! {
                    <p class="muted" role="status">
                        "Loading teams…"
                    </p>
                }
            }>
                {move || {
                    teams
                        .get()
                        .map(|loaded| match loaded {
                            Ok(options) => {
                                view! {
                                    <select
                                        id="change-team-select"
                                        class="input"
                                        on:change=move |ev| picked.set(event_target_value(&ev))
                                    >
                                        <option value="" selected=current.is_none()>
                                            "No team"
                                        </option>
                                        {options
                                            .into_iter()
                                            .map(|(id, name)| {
                                                view! {
                                                    <option value=id.to_string() selected=Some(id) == current>
                                                        {name}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <p class="form-error" role="alert">
                                        {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </div>
        <div class="modal-actions">
            <button type="button" class="btn btn-ghost" on:click=move |_| on_cancel()>
                "Cancel"
            </button>
            <button
                type="button"
                class="btn btn-primary"
                disabled=unchanged
                on:click=move |_| on_pick(picked.get())
            >
                "Save team"
            </button>
        </div>
    }
}

/// The expanded row: keys, request counts, join date, last active.
#[component]
fn Detail(id: domain::UserId, now: DateTime<Utc>, keys_href: Option<String>) -> impl IntoView {
    let keys_href = StoredValue::new(keys_href);
    let detail = Resource::new(move || id, load_user_detail);
    view! {
        <Suspense fallback=|| {
            view! {
                <p class="muted" aria-busy="true">
                    "Loading details…"
                </p>
            }
        }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        view! { <DetailBody d id now keys_href=keys_href.get_value() /> }.into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="field-error" role="alert">
                                {e.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn DetailBody(
    d: UserDetail,
    id: domain::UserId,
    now: DateTime<Utc>,
    keys_href: Option<String>,
) -> impl IntoView {
    let keys = d.keys;
    view! {
        <div class="detail">
            <dl class="detail-facts">
                <div>
                    <dt>"Requests this month"</dt>
                    <dd>{d.requests_this_month}</dd>
                </div>
                <div>
                    <dt>"Requests, all time"</dt>
                    <dd>{d.requests_all_time}</dd>
                </div>
                <div>
                    <dt>"Spend this month"</dt>
                    <dd>
                        <MemberBudgetUse budget=d.budget />
                    </dd>
                </div>
                <div>
                    <dt>"Joined"</dt>
                    <dd>
                        <Ago at=d.joined_at now never="Not yet (invited)" />
                    </dd>
                </div>
                <div>
                    <dt>"Last active"</dt>
                    <dd>
                        <Ago at=d.last_active_at now />
                    </dd>
                </div>
            </dl>
            <HistoryLink kind="user" id=id.0 />
            <h3 class="detail-title">
                "API keys"
                {keys_href
                    .map(|href| {
                        view! {
                            " "
                            <a class="detail-link" href=href>
                                "Manage these keys"
                            </a>
                        }
                    })}
            </h3>
            <KeyList keys now />
        </div>
    }
}

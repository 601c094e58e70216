//! The users list: cards, filters, the table and its pager. The query lives in the URL; the
//! server searches, filters, sorts and pages.

use super::api::{
    ChangeUserRole, ChangeUserTeam, DeleteUser, Delivery, InviteUser, ReactivateUser, ResendInvite,
    ResetAccessList, SuspendUser, list_users,
};
use super::danger::DangerZone;
use super::filters::Filters;
use super::invite::InviteDialog;
use super::row::{RowActions, UserRowView};
use crate::components::{Loaded, OpenButton, PageHeader, Pager, SortHeader, SummaryCards};
use crate::list_page::{ListChanges, use_list_page};
use domain::dto::SessionUser;
use domain::numbers::grouped;
use domain::users::{UserPage, UserQuery, UserSort};
use domain::{Action, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/dashboard/configuration/users`.
#[component]
pub fn UsersPage() -> impl IntoView {
    let me = use_context::<SessionUser>();
    let actor = me.as_ref().map(SessionUser::actor);
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let params = query_map.read();
        UserQuery::from_params(|k| params.get(k))
    });

    let actions = RowActions {
        change_role: ServerAction::<ChangeUserRole>::new(),
        change_team: ServerAction::<ChangeUserTeam>::new(),
        suspend: ServerAction::<SuspendUser>::new(),
        reactivate: ServerAction::<ReactivateUser>::new(),
        resend: ServerAction::<ResendInvite>::new(),
        delete: ServerAction::<DeleteUser>::new(),
    };
    let invite = ServerAction::<InviteUser>::new();
    let reset = ServerAction::<ResetAccessList>::new();
    let changes = ListChanges::new()
        .toasted(actions.change_role, |row| {
            format!("{} is now {}.", row.email, row.role.label())
        })
        .toasted(actions.change_team, |row| match &row.team {
            Some((_, team)) => format!("{} is now in {team}.", row.email),
            None => format!("{} is no longer in a team.", row.email),
        })
        .toasted(actions.suspend, |row| {
            format!("{} is suspended. Their sessions have ended.", row.email)
        })
        .toasted(actions.reactivate, |row| {
            format!("{} is active again.", row.email)
        })
        .toasted(actions.resend, |outcome| match outcome.delivery {
            Delivery::Emailed => format!(
                "A new invite was emailed to {}. The old link no longer works.",
                outcome.user.email
            ),
            Delivery::Link { .. } => format!(
                "A new invite link for {} is ready. The old link no longer works.",
                outcome.user.email
            ),
        })
        .toasted(actions.delete, |()| "The user was deleted.".to_owned())
        .by(invite)
        .toasted_on_success(reset, String::clone);
    let page = use_list_page(move || query.get(), changes, list_users);
    let resend_link = Signal::derive(move || {
        actions
            .resend
            .value()
            .get()
            .and_then(Result::ok)
            .and_then(|o| o.link())
    });

    let can_invite = actor.is_some_and(|a| {
        [Role::Admin, Role::Member, Role::Viewer]
            .into_iter()
            .any(|role| a.can(Action::Invite { role }))
    });
    let invite_open = RwSignal::new(false);
    let can_reset = actor.is_some_and(|a| a.can(Action::ResetAccessList));

    view! {
        <PageHeader
            title="Users"
            lead="Everyone who operates this gateway: their role, status, team and activity."
        >
            <OpenButton label="Invite User" open=invite_open shown=can_invite />
        </PageHeader>
        {can_invite.then(|| view! { <InviteDialog open=invite_open actor=actor action=invite /> })}
        <Loaded
            resource=page
            loading="Loading users…"
            show=move |p| {
                view! {
                    <Cards page=p.clone() />
                    <Filters query=query />
                    <UsersTable page=p query=query.get_untracked() actor actions resend_link />
                }
                    .into_any()
            }
        />
        {can_reset.then(|| view! { <DangerZone action=reset /> })}
    }
}

#[component]
fn Cards(page: UserPage) -> impl IntoView {
    let s = page.summary;
    view! {
        <SummaryCards cards=vec![
            ("Total users", grouped(s.total)),
            ("Active", grouped(s.active)),
            ("Admins", grouped(s.admins)),
            ("Pending invites", grouped(s.pending_invites)),
        ] />
    }
}

#[component]
fn UsersTable(
    page: UserPage,
    query: UserQuery,
    actor: Option<domain::Actor>,
    actions: RowActions,
    resend_link: Signal<Option<(String, Option<String>)>>,
) -> AnyView {
    let now = page.generated_at;
    let header = |col: UserSort| {
        let href = format!("?{}", query.sorted_by(col).to_query_string());
        view! { <SortHeader label=col.label() sorted=(query.sort == col).then_some(query.dir) href /> }
    };
    let (empty, shown) = (page.rows.is_empty(), page.rows.len());
    view! {
        {move || {
            resend_link
                .get()
                .map(|(link, mail_error)| view! { <super::invite::LinkNotice link mail_error /> })
        }}
        <div class="table-wrap">
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col" class="col-expand">
                            <span class="sr-only">"Details"</span>
                        </th>
                        {UserSort::ALL.into_iter().map(header).collect_view()}
                        <th scope="col" class="col-actions">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|row| view! { <UserRowView row now actor actions /> })
                        .collect_view()}
                </tbody>
            </table>
            {empty.then(|| view! { <p class="table-empty">"No users match this search."</p> })}
        </div>
        <Pager
            total=page.matching
            page=page.page
            rows=shown
            noun="users"
            href=|n| format!("?{}", query.on_page(n).to_query_string())
            at_least=!page.matching_exact
            has_next=page.has_next
        />
    }
    .into_any()
}

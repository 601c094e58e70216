//! The users list: cards, filters, the table and its pager. The query lives in the URL; the
//! server searches, filters, sorts and pages.

use super::api::{
    ChangeUserRole, ChangeUserTeam, DeleteUser, Delivery, ReactivateUser, ResendInvite,
    SuspendUser, list_users,
};
use super::danger::DangerZone;
use super::filters::Filters;
use super::invite::InviteDialog;
use super::row::{RowActions, UserRowView};
use crate::components::{Pager, SortHeader, SummaryCards, use_toasts};
use crate::error::AppError;
use domain::dto::SessionUser;
use domain::numbers::grouped;
use domain::users::{PER_PAGE, UserPage, UserQuery, UserSort};
use domain::{Action, Role};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
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
    // Bumped after every change, so the list and the cards are read again.
    let version = RwSignal::new(0_u32);
    let page = Resource::new(move || (query.get(), version.get()), |(q, _)| list_users(q));
    let refresh = Callback::new(move |()| version.update(|v| *v += 1));

    let actions = RowActions {
        change_role: ServerAction::<ChangeUserRole>::new(),
        change_team: ServerAction::<ChangeUserTeam>::new(),
        suspend: ServerAction::<SuspendUser>::new(),
        reactivate: ServerAction::<ReactivateUser>::new(),
        resend: ServerAction::<ResendInvite>::new(),
        delete: ServerAction::<DeleteUser>::new(),
    };
    report(actions.change_role, refresh, |row| {
        format!("{} is now {}.", row.email, row.role.label())
    });
    report(actions.change_team, refresh, |row| match &row.team {
        Some((_, team)) => format!("{} is now in {team}.", row.email),
        None => format!("{} is no longer in a team.", row.email),
    });
    report(actions.suspend, refresh, |row| {
        format!("{} is suspended. Their sessions have ended.", row.email)
    });
    report(actions.reactivate, refresh, |row| {
        format!("{} is active again.", row.email)
    });
    report(actions.resend, refresh, |outcome| match outcome.delivery {
        Delivery::Emailed => format!(
            "A new invite was emailed to {}. The old link no longer works.",
            outcome.user.email
        ),
        Delivery::Link { .. } => format!(
            "A new invite link for {} is ready. The old link no longer works.",
            outcome.user.email
        ),
    });
    report(actions.delete, refresh, |()| {
        "The user was deleted.".to_owned()
    });
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
        <Title text="Users"/>
        <div class="page-header">
            <div>
                <h1>"Users"</h1>
                <p class="muted">"Everyone who operates this gateway: their role, status, team and activity."</p>
            </div>
            {can_invite.then(|| view! {
                <button type="button" class="btn btn-primary" on:click=move |_| invite_open.set(true)>"Invite User"</button>
            })}
        </div>
        {can_invite.then(|| view! { <InviteDialog open=invite_open actor=actor on_invited=refresh/> })}
        <Transition fallback=|| view! { <p class="muted" aria-busy="true">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <Cards page=p.clone()/> <Filters query=query/> <UsersTable page=p query=query.get_untracked() actor actions resend_link/> }.into_any(),
                    Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                }
            })}
        </Transition>
        {can_reset.then(|| view! { <DangerZone on_reset=refresh/> })}
    }
}

/// Shows a toast for each finished action and reloads the list.
fn report<S>(action: ServerAction<S>, refresh: Callback<()>, done: fn(&S::Output) -> String)
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        let Some(result) = action.value().get() else {
            return;
        };
        if let Some(toasts) = use_toasts() {
            match &result {
                Ok(output) => toasts.success(done(output)),
                Err(e) => toasts.error(e.to_string()),
            }
        }
        refresh.run(());
    });
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
        ]/>
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
        view! { <SortHeader label=col.label() sorted=(query.sort == col).then_some(query.dir) href/> }
    };
    let first = (page.page - 1) * PER_PAGE + 1;
    let last = first + page.rows.len() as u64 - 1;
    let empty = page.rows.is_empty();
    // A search matching more than the count cap shows its lower bound: "500+".
    let more = if page.matching_exact { "" } else { "+" };
    let matching = format!("{}{more}", grouped(page.matching));
    let (prev, next) = (
        (page.page > 1).then(|| format!("?{}", query.on_page(page.page - 1).to_query_string())),
        page.has_next
            .then(|| format!("?{}", query.on_page(page.page + 1).to_query_string())),
    );
    view! {
        {move || resend_link.get().map(|(link, mail_error)| view! { <super::invite::LinkNotice link mail_error/> })}
        <div class="table-wrap">
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col" class="col-expand"><span class="sr-only">"Details"</span></th>
                        {UserSort::ALL.into_iter().map(header).collect_view()}
                        <th scope="col" class="col-actions"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {page.rows.into_iter().map(|row| view! { <UserRowView row now actor actions/> }).collect_view()}
                </tbody>
            </table>
            {empty.then(|| view! { <p class="table-empty">"No users match this search."</p> })}
        </div>
        <Pager shown={if empty { "0 users".to_owned() } else { format!("{first}–{last} of {} users", matching) }} position=format!("Page {} of {}{more}", page.page, page.pages) prev next/>
    }
    .into_any()
}

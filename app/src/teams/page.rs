//! `/dashboard/configuration/teams`: cards, search, sortable columns and pages (all in the URL,
//! working with JavaScript off), budget bars, expandable rows, and the team actions.

use super::api::{CreateTeam, DeleteTeam, EditTeam, list_teams, team_keys};
use super::form::{CreateTeamDialog, EditTeamDialog};
use super::members::TeamMembers;
use crate::audit::HistoryLink;
use crate::components::{
    BudgetBar, ConfirmButton, FilterForm, Loaded, OpenButton, PageHeader, Pager, SortHeader,
    SummaryCards, exact,
};
use crate::keys::KeyList;
use crate::list_page::{ListChanges, use_list_page};
use chrono::{DateTime, Utc};
use domain::budget::percent_used;
use domain::dto::SessionUser;
use domain::numbers::grouped;
use domain::teams::{TeamPage, TeamQuery, TeamRow, TeamSort};
use domain::{Action, Actor, TeamId};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::collections::HashSet;

/// What a team's row hands back to the page, which outlives the row when the list reloads.
#[derive(Clone, Copy)]
struct RowHooks {
    /// Which rows are open, so a row stays open while the list reloads after a change.
    open_rows: RwSignal<HashSet<TeamId>>,
    /// Opens the Edit dialog for a team.
    edit: Callback<TeamRow>,
    delete: ServerAction<DeleteTeam>,
    /// After a member is added or removed in an open row: the list (counts, cards) is read again.
    members_changed: Callback<()>,
}

#[component]
pub fn TeamsPage() -> impl IntoView {
    let actor = use_context::<SessionUser>().map(|me| me.actor());
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let params = query_map.read();
        TeamQuery::from_params(|k| params.get(k))
    });
    let manages = actor.is_some_and(|a| a.can(Action::ManageTeams));
    let create_open = RwSignal::new(false);
    let (edit_open, editing) = (RwSignal::new(false), RwSignal::new(None::<TeamRow>));

    let create = ServerAction::<CreateTeam>::new();
    let edit = ServerAction::<EditTeam>::new();
    let delete = ServerAction::<DeleteTeam>::new();
    let changes = ListChanges::new().by(create).by(edit).toasted(delete, |r| {
        format!(
            "The team was deleted: {} members unassigned, {} keys revoked.",
            r.members_unassigned, r.keys_revoked
        )
    });
    let page = use_list_page(move || query.get(), changes, list_teams);
    // The members part of an open row has its own actions; a change there reloads the list too.
    let hooks = RowHooks {
        open_rows: RwSignal::new(HashSet::new()),
        edit: Callback::new(move |team| {
            editing.set(Some(team));
            edit_open.set(true);
        }),
        delete,
        members_changed: Callback::new(move |()| page.refetch()),
    };

    view! {
        <PageHeader
            title="Teams"
            lead="Groups of users with a monthly spend limit that the gateway enforces as a hard cap. Figures are for this calendar month (UTC)."
        >
            <OpenButton label="Create Team" open=create_open shown=manages />
        </PageHeader>
        {manages
            .then(|| {
                view! {
                    <CreateTeamDialog
                        open=create_open
                        action=create
                        default_limit=Signal::derive(move || {
                            page.get().and_then(|p| p.ok()).and_then(|p| p.new_team_limit)
                        })
                    />
                    <EditTeamDialog open=edit_open team=editing action=edit />
                }
            })}
        <Loaded
            resource=page
            loading="Loading teams…"
            show=move |p| {
                view! {
                    <Cards page=p.clone() />
                    <Search query=query.get_untracked() />
                    <TeamsTable page=p query=query.get_untracked() actor hooks />
                }
                    .into_any()
            }
        />
    }
}

#[component]
fn Cards(page: TeamPage) -> impl IntoView {
    let s = page.summary;
    view! {
        <SummaryCards cards=vec![
            ("Total teams", grouped(s.teams)),
            ("Total members", grouped(s.members)),
            ("Monthly spend", s.spend.to_string()),
            ("Monthly requests", grouped(u64::try_from(s.requests).unwrap_or(0))),
        ] />
    }
}

#[component]
fn Search(query: TeamQuery) -> impl IntoView {
    view! {
        <FilterForm action="/dashboard/configuration/teams" label="Filter teams">
            <input
                type="search"
                maxlength=domain::list_query::SEARCH_MAX
                name="q"
                class="input"
                value=query.search.clone()
                placeholder="Search by team name"
                aria-label="Search teams"
            />
            <input type="hidden" name="sort" value=query.sort.as_str() />
            <input type="hidden" name="dir" value=query.dir.as_str() />
            <button type="submit" class="btn btn-ghost">
                "Search"
            </button>
        </FilterForm>
    }
}

#[component]
fn TeamsTable(
    page: TeamPage,
    query: TeamQuery,
    actor: Option<Actor>,
    hooks: RowHooks,
) -> impl IntoView {
    let header = |col: TeamSort| {
        let href = format!("?{}", query.sorted_by(col).to_query_string());
        view! { <SortHeader label=col.label() sorted=(query.sort == col).then_some(query.dir) href /> }
    };
    let (empty, shown) = (page.rows.is_empty(), page.rows.len());
    let page_href = {
        let query = query.clone();
        move |n| format!("?{}", query.on_page(n).to_query_string())
    };
    let manages = actor.is_some_and(|a| a.can(Action::ManageTeams));
    let manages_keys = actor.is_some_and(|a| a.can(Action::RevokeAnyKey));
    let now = page.generated_at;
    view! {
        <div class="table-wrap">
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col" class="col-expand">
                            <span class="sr-only">"Details"</span>
                        </th>
                        {TeamSort::ALL.into_iter().map(header).collect_view()}
                        <th scope="col">"Budget"</th>
                        <th scope="col" class="col-actions">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|team| view! { <TeamRowView team now manages manages_keys hooks /> })
                        .collect_view()}
                </tbody>
            </table>
            {empty
                .then(|| {
                    view! {
                        <p class="table-empty">
                            {if query.search.is_empty() {
                                "No teams yet."
                            } else {
                                "No teams match this search."
                            }}
                        </p>
                    }
                })}
        </div>
        <Pager total=page.matching page=page.page rows=shown noun="teams" href=page_href />
    }
}

#[component]
fn TeamRowView(
    team: TeamRow,
    now: DateTime<Utc>,
    manages: bool,
    manages_keys: bool,
    hooks: RowHooks,
) -> impl IntoView {
    let RowHooks {
        open_rows,
        edit,
        delete,
        members_changed,
    } = hooks;
    let id = team.id;
    let expanded = move || open_rows.with(|open| open.contains(&id));
    let toggle = move || {
        open_rows.update(|open| {
            if !open.remove(&id) {
                open.insert(id);
            }
        })
    };
    let busy = move || delete.pending().get() && delete.input().get().map(|i| i.id) == Some(id);
    let title = format!("Delete team ‘{}’?", team.name);
    let detail = format!(
        "{} will be left without a team and {} will be revoked. Usage history stays.",
        plural(team.members, "member", "members"),
        plural(team.live_keys, "key", "keys"),
    );
    let detail_id = format!("team-detail-{id}");
    let budget = match team.limit {
        Some(limit) => view! { <BudgetBar spent=team.spend limit /> }.into_any(),
        None => view! { <span class="muted">"No limit"</span> }.into_any(),
    };
    let edit_team = team.clone();
    view! {
        <tr class="row" class:row-busy=busy>
            <td class="col-expand">
                <button
                    type="button"
                    class="icon-btn"
                    aria-label=format!("Details for {}", team.name)
                    aria-expanded=move || expanded().to_string()
                    aria-controls=detail_id.clone()
                    on:click=move |_| toggle()
                >
                    <span class="chevron" class:chevron-open=expanded aria-hidden="true">
                        "›"
                    </span>
                </button>
            </td>
            <td class="cell-name">{team.name.clone()}</td>
            <td>{grouped(team.members)}</td>
            <td>{team.spend.to_string()}</td>
            <td>{grouped(u64::try_from(team.requests).unwrap_or(0))}</td>
            <td>{budget}</td>
            <td class="col-actions">
                {manages
                    .then(|| {
                        view! {
                            <div class="row-buttons">
                                <button
                                    type="button"
                                    class="btn btn-small btn-ghost"
                                    aria-label=format!("Edit {}", team.name)
                                    on:click=move |_| edit.run(edit_team.clone())
                                >
                                    "Edit"
                                </button>
                                <ConfirmButton
                                    label="Delete"
                                    aria_label=format!("Delete {}", team.name)
                                    title=title
                                    detail=detail
                                    confirm_label="Delete"
                                    on_confirm=Callback::new(move |()| {
                                        delete.dispatch(DeleteTeam { id });
                                    })
                                />
                            </div>
                        }
                    })}
            </td>
        </tr>
        <Show when=expanded>
            <tr class="detail-row" id=format!("team-detail-{id}")>
                <td colspan="7">
                    <TeamDetail team=team.clone() now manages manages_keys members_changed />
                </td>
            </tr>
        </Show>
    }
}

#[component]
fn TeamDetail(
    team: TeamRow,
    now: DateTime<Utc>,
    manages: bool,
    manages_keys: bool,
    members_changed: Callback<()>,
) -> impl IntoView {
    let id = team.id;
    let keys = Resource::new(move || id, team_keys);
    let generated = now;
    let used = match team.limit {
        Some(limit) => match percent_used(team.spend, limit) {
            Some(p) => format!("{:.1} % of {limit}", (p * 10.0).floor() / 10.0),
            None => format!("{} spent against a limit of $0.00", team.spend),
        },
        None => "No limit".to_owned(),
    };
    let keys_href = format!("/dashboard/keys?scope=all&team={}", team.id);
    view! {
        <div class="detail">
            <p>
                {if team.description.is_empty() {
                    "No description.".to_owned()
                } else {
                    team.description.clone()
                }}
            </p>
            <dl class="detail-facts">
                <div>
                    <dt>"Monthly spend limit"</dt>
                    <dd>{team.limit.map_or_else(|| "No limit".to_owned(), |l| l.to_string())}</dd>
                </div>
                <div>
                    <dt>"Budget used"</dt>
                    <dd>{used}</dd>
                </div>
                <div>
                    <dt>"Budget per member"</dt>
                    <dd>
                        {team
                            .member_budget
                            .map_or_else(|| "None".to_owned(), domain::rate_limits::budget_summary)}
                    </dd>
                </div>
                <div>
                    <dt>"Per-minute limits"</dt>
                    <dd>{team.rates.summary().unwrap_or_else(|| "None".to_owned())}</dd>
                </div>
                <div>
                    <dt>"Active keys"</dt>
                    <dd>{team.live_keys}</dd>
                </div>
                <div>
                    <dt>"Created"</dt>
                    <dd title=exact(
                        team.created_at,
                    )>{team.created_at.format("%-d %b %Y").to_string()}</dd>
                </div>
            </dl>
            <HistoryLink kind="team" id=id.0 />
            <TeamMembers team=id team_name=team.name.clone() manages on_change=members_changed />
            <h3 class="detail-title">
                "API keys"
                {manages_keys
                    .then(|| {
                        view! {
                            " "
                            <a class="detail-link" href=keys_href.clone()>
                                "Manage these keys"
                            </a>
                        }
                    })}
            </h3>
            <Suspense fallback=|| {
                view! {
                    <p class="muted" aria-busy="true">
                        "Loading keys…"
                    </p>
                }
            }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) => {
                            view! { <KeyList keys=list now=generated owners=true /> }.into_any()
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
            </Suspense>
        </div>
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

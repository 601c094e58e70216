//! `/dashboard/keys`: "My keys" for everyone; Owners and Admins also get "All keys" with filters
//! by team and status (and by person, from a link). The query lives in the URL; the filter form
//! is a plain GET form, so it works with JavaScript off.

use super::KeyStatusBadge;
use super::api::{IssueKey, RevokeKey, SetKeyLimits, list_keys};
use super::issue::IssueDialog;
use super::limits::LimitsDialog;
use crate::components::{
    Ago, BudgetBar, ConfirmButton, FilterForm, Loaded, OpenButton, PageHeader, Pager,
};
use crate::list_page::{ListChanges, use_list_page};
use crate::users::api::team_options;
use chrono::{DateTime, Utc};
use domain::dto::SessionUser;
use domain::keys::{KeyPage, KeyQuery, KeyRow, KeyScope, KeyStatus};
use domain::{Action, Actor, KeyId};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn KeysPage() -> impl IntoView {
    let actor = use_context::<SessionUser>().map(|me| me.actor());
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let params = query_map.read();
        KeyQuery::from_params(|k| params.get(k))
    });
    let sees_all = actor.is_some_and(|a| a.can(Action::RevokeAnyKey));
    let may_issue = actor.is_some_and(|a| a.can(Action::ManageOwnKeys));
    let issue_open = RwSignal::new(false);

    let issue = ServerAction::<IssueKey>::new();
    let revoke = ServerAction::<RevokeKey>::new();
    let set_limits = ServerAction::<SetKeyLimits>::new();
    // One Limits dialog for the page, outside the rows: the list reloading after a refused save
    // must not close it over its error.
    let limits_open = RwSignal::new(false);
    let limits_of = RwSignal::new(None::<KeyRow>);
    let changes = ListChanges::new()
        .by(issue)
        .toasted(revoke, |key| {
            format!(
                "Key “{}” is revoked. Requests with it are refused.",
                key.name
            )
        })
        .toasted_on_success(set_limits, |key| {
            format!(
                "Limits of “{}” saved. The next request is held to them.",
                key.name
            )
        });
    let page = use_list_page(move || query.get(), changes, list_keys);

    // The filter form's fields follow the tab and the person shown: it is made again when they
    // change (and only then, so typing in it keeps its focus).
    let form_shape = Memo::new(move |_| query.with(|q| (q.scope, q.user)));

    view! {
        <PageHeader
            title="API keys"
            lead="Keys call models through this gateway. Each belongs to a person and, through them, to a team and its monthly budget."
        >
            <OpenButton label="Create key" open=issue_open shown=may_issue />
        </PageHeader>
        {may_issue
            .then(|| view! { <IssueDialog open=issue_open picks_team=sees_all action=issue /> })}
        {move || {
            limits_of
                .get()
                .map(|key| {
                    let tighten_only = !actor
                        .is_some_and(|a| {
                            a.can(Action::SetKeyLimits {
                                owner: key.owner.as_ref().map(|o| o.0),
                                loosens: true,
                            })
                        });
                    view! { <LimitsDialog open=limits_open key tighten_only action=set_limits /> }
                })
        }}
        {sees_all.then(|| view! { <Tabs query /> })}
        {move || {
            form_shape.track();
            view! { <Filters query sees_all /> }
        }}
        {move || {
            query
                .get()
                .user
                .map(|_| {
                    let everyone = KeyQuery {
                        user: None,
                        page: 1,
                        ..query.get()
                    };
                    view! {
                        <p class="filter-note">
                            "Showing one person's keys. "
                            <a href=format!("?{}", everyone.to_query_string())>"Show everyone's"</a>
                        </p>
                    }
                })
        }}
        <Loaded
            resource=page
            loading="Loading keys…"
            show=move |p| {
                view! {
                    <KeysTable
                        page=p
                        query=query.get_untracked()
                        actor
                        revoke
                        limits_of
                        limits_open
                    />
                }
                    .into_any()
            }
        />
    }
}

#[component]
fn Tabs(query: Memo<KeyQuery>) -> impl IntoView {
    let tab = move |scope: KeyScope, label: &'static str| {
        let href = format!(
            "?{}",
            KeyQuery {
                scope,
                ..KeyQuery::default()
            }
            .to_query_string()
        );
        view! {
            <a
                class="tab"
                href=href
                aria-current=move || (query.get().scope == scope).then_some("page")
            >
                {label}
            </a>
        }
    };
    view! {
        <nav class="tabs" aria-label="Whose keys">
            {tab(KeyScope::Mine, "My keys")}
            {tab(KeyScope::All, "All keys")}
        </nav>
    }
}

/// Search, status and (All keys) team.
#[component]
fn Filters(query: Memo<KeyQuery>, sees_all: bool) -> impl IntoView {
    let current = query.get_untracked();
    let all = sees_all && current.scope == KeyScope::All;
    let teams = Resource::new(
        move || all,
        |all| async move {
            if all {
                team_options().await.unwrap_or_default()
            } else {
                Vec::new()
            }
        },
    );
    let picked_team = current.team;
    view! {
        <FilterForm action="/dashboard/keys" label="Filter keys">
            {all.then(|| view! { <input type="hidden" name="scope" value="all" /> })}
            {current
                .user
                .map(|u| view! { <input type="hidden" name="user" value=u.to_string() /> })}
            <input
                type="search"
                maxlength=domain::list_query::SEARCH_MAX
                name="q"
                class="input"
                value=current.search.clone()
                placeholder="Search by name or prefix"
                aria-label="Search keys"
            />
            <select name="status" class="input" aria-label="Status">
                <option value="" selected=current.status.is_none()>
                    "All statuses"
                </option>
                {KeyStatus::ALL
                    .into_iter()
                    .map(|s| {
                        view! {
                            <option value=s.as_str() selected=current.status == Some(s)>
                                {s.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            {all
                .then(|| {
                    view! {
                        <select name="team" class="input" aria-label="Team">
                            <option value="" selected=picked_team.is_none()>
                                "All teams"
                            </option>
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    teams
                                        .await
                                        .into_iter()
                                        .map(|(id, name)| {
                                            view! {
                                                <option
                                                    value=id.to_string()
                                                    selected=picked_team == Some(id)
                                                >
                                                    {name}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                })}
                            </Suspense>
                        </select>
                    }
                })}
            <button type="submit" class="btn btn-ghost">
                "Filter"
            </button>
        </FilterForm>
    }
}

#[component]
fn KeysTable(
    page: KeyPage,
    query: KeyQuery,
    actor: Option<Actor>,
    revoke: ServerAction<RevokeKey>,
    limits_of: RwSignal<Option<KeyRow>>,
    limits_open: RwSignal<bool>,
) -> impl IntoView {
    let all = query.scope == KeyScope::All;
    let now = page.generated_at;
    let (empty, shown) = (page.rows.is_empty(), page.rows.len());
    let page_href = {
        let query = query.clone();
        move |n| format!("?{}", query.on_page(n).to_query_string())
    };
    let filtered = query.search.is_empty()
        && query.status.is_none()
        && query.team.is_none()
        && query.user.is_none();
    view! {
        <div class="table-wrap table-scroll">
            <table class="data-table keys-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Prefix"</th>
                        {all.then(|| view! { <th scope="col">"Owner"</th> })}
                        <th scope="col">"Team"</th>
                        <th scope="col" class="col-created">
                            "Created"
                        </th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"This month"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="col-actions">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|key| {
                            view! { <KeyRowView key all now actor revoke limits_of limits_open /> }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {empty
                .then(|| {
                    view! {
                        <p class="table-empty">
                            {if filtered { "No keys yet." } else { "No keys match these filters." }}
                        </p>
                    }
                })}
        </div>
        <Pager total=page.matching page=page.page rows=shown noun="keys" href=page_href />
    }
}

#[component]
fn KeyRowView(
    key: KeyRow,
    all: bool,
    now: DateTime<Utc>,
    actor: Option<Actor>,
    revoke: ServerAction<RevokeKey>,
    limits_of: RwSignal<Option<KeyRow>>,
    limits_open: RwSignal<bool>,
) -> impl IntoView {
    let id: KeyId = key.id;
    let owner_id = key.owner.as_ref().map(|o| o.0);
    let set_limits_for = move |key: KeyRow| {
        limits_of.set(Some(key));
        limits_open.set(true);
    };
    let may_limit = key.status == KeyStatus::Active
        && actor.is_some_and(|a| {
            a.can(Action::SetKeyLimits {
                owner: owner_id,
                loosens: false,
            })
        });
    let limits = [
        key.limits.budget.map(domain::rate_limits::budget_summary),
        key.limits.rates.summary(),
        domain::rate_limits::model_summary(&key.limits.models),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let may_revoke = key.status != KeyStatus::Revoked
        && actor.is_some_and(|a| {
            a.can(Action::RevokeKey {
                owner: key.owner.as_ref().map(|o| o.0),
            })
        });
    let busy = move || revoke.pending().get() && revoke.input().get().map(|i| i.id) == Some(id);
    let title = format!("Revoke key ‘{}’?", key.name);
    let owner = key
        .owner
        .clone()
        .map(|(_, email)| email)
        .unwrap_or_else(|| "(deleted user)".to_owned());
    let expires = match key.expires_at {
        Some(at) => view! { <span title=crate::components::exact(at)>{at.format("%-d %b %Y").to_string()}</span> }.into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    view! {
        <tr class="row" class:row-busy=busy>
            <td class="cell-name">
                {key.name.clone()}
                {(!limits.is_empty())
                    .then(|| view! { <span class="cell-sub">{limits.clone()}</span> })}
            </td>
            <td>
                <code>{key.prefix.clone()}"…"</code>
            </td>
            {all.then(|| view! { <td class="cell-email">{owner}</td> })}
            <td>{key.team.clone().map(|(_, n)| n).unwrap_or_else(|| "—".to_owned())}</td>
            <td class="col-created">
                <Ago at=Some(key.created_at) now />
            </td>
            <td>
                <Ago at=key.last_used_at now />
            </td>
            <td class="cell-budget">
                {match key.limits.budget {
                    Some(budget) => {
                        view! { <BudgetBar spent=key.spent_this_month limit=budget /> }.into_any()
                    }
                    None => view! { <span>{key.spent_this_month.to_string()}</span> }.into_any(),
                }}
            </td>
            <td>{expires}</td>
            <td>
                <KeyStatusBadge status=key.status blocked=key.blocked />
            </td>
            <td class="col-actions">
                {may_limit
                    .then(|| {
                        let key = key.clone();
                        view! {
                            <button
                                type="button"
                                class="btn btn-small btn-ghost"
                                aria-label=format!("Limits of {}", key.name)
                                on:click=move |_| {
                                    set_limits_for(key.clone());
                                }
                            >
                                "Limits"
                            </button>
                        }
                    })}
                {may_revoke
                    .then(|| {
                        view! {
                            <ConfirmButton
                                label="Revoke"
                                aria_label=format!("Revoke {}", key.name)
                                disabled=busy
                                title=title
                                detail="Requests with this key are refused at once. It stays listed as revoked; usage history keeps its name."
                                confirm_label="Revoke"
                                on_confirm=Callback::new(move |()| {
                                    revoke.dispatch(RevokeKey { id });
                                })
                            />
                        }
                    })}
            </td>
        </tr>
    }
}

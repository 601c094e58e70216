//! `/dashboard/configuration/audit`: the audit log. A plain GET filter form (words, kind, first
//! and last day), so it works with JavaScript off; each entry says when, who, what, on what and
//! what changed. `?target=team:2` narrows it to one thing's history: each entry's "On" links
//! there, as do the Users and Teams pages' expanded rows.

use super::api::list_audit;
use crate::components::{Ago, FilterForm, Loaded, PageHeader, Pager};
use crate::list_page::{ListChanges, use_list_page};
use domain::audit::{
    AuditKind, AuditPage as Page, AuditQuery, TargetKind, action_label, target_href,
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let params = query_map.read();
        AuditQuery::from_params(|k| params.get(k))
    });
    let page = use_list_page(move || query.get(), ListChanges::new(), list_audit);
    view! {
        <PageHeader
            title="Audit log"
            lead="Every change to people, teams and keys, and every sign-in, newest first. Entries are never edited or deleted."
        >
            <a class="btn btn-ghost" href=move || query.get().export_href() download="">
                "Export CSV"
            </a>
        </PageHeader>
        <Filters query=query.get_untracked() />
        {move || {
            let q = query.get();
            q.target
                .clone()
                .map(|target| {
                    let all = format!("?{}", q.without_target().to_query_string());
                    view! {
                        <p class="filter-note">
                            "The history of " <code>{target}</code> " only. "
                            <a href=all>"Show every entry"</a>
                        </p>
                    }
                })
        }}
        <Loaded
            resource=page
            loading="Loading the audit log…"
            show=move |p| { view! { <Entries page=p query=query.get_untracked() /> }.into_any() }
        />
    }
}

/// Words, who, kind, what it was on, and the first and last day.
#[component]
fn Filters(query: AuditQuery) -> impl IntoView {
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    view! {
        <FilterForm action="/dashboard/configuration/audit" label="Filter the audit log">
            {query
                .target
                .clone()
                .map(|target| view! { <input type="hidden" name="target" value=target /> })}
            <input
                type="search"
                maxlength=domain::list_query::SEARCH_MAX
                name="q"
                class="input"
                value=query.search.clone()
                placeholder="Search who, what or on what"
                aria-label="Search the audit log"
            />
            <input
                type="text"
                name="who"
                class="input"
                inputmode="email"
                autocomplete="off"
                value=query.actor.clone()
                placeholder="Who (their email)"
                aria-label="Who acted (their email)"
            />
            <select name="kind" class="input" aria-label="Kind">
                <option value="" selected=query.kind.is_none()>
                    "All kinds"
                </option>
                {AuditKind::ALL
                    .into_iter()
                    .map(|k| {
                        view! {
                            <option value=k.as_str() selected=query.kind == Some(k)>
                                {k.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <select name="on" class="input" aria-label="On">
                <option value="" selected=query.on.is_none()>
                    "On anything"
                </option>
                {TargetKind::ALL
                    .into_iter()
                    .map(|k| {
                        view! {
                            <option value=k.as_str() selected=query.on == Some(k)>
                                {k.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label class="inline-field">
                "From" <input type="date" name="from" class="input" value=day(query.from) />
            </label>
            <label class="inline-field">
                "To" <input type="date" name="to" class="input" value=day(query.to) />
            </label>
            <button type="submit" class="btn btn-ghost">
                "Filter"
            </button>
        </FilterForm>
    }
}

#[component]
fn Entries(page: Page, query: AuditQuery) -> impl IntoView {
    let now = page.generated_at;
    let (empty, shown) = (page.rows.is_empty(), page.rows.len());
    let filtered = query.is_filtered();
    let page_href = {
        let query = query.clone();
        move |n| format!("?{}", query.on_page(n).to_query_string())
    };
    view! {
        <div class="table-wrap">
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"On"</th>
                        <th scope="col">"What changed"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|e| {
                            let who = if e.actor_email.is_empty() {
                                "(system)".to_owned()
                            } else {
                                e.actor_email.clone()
                            };
                            view! {
                                <tr class="row">
                                    <td>
                                        <Ago at=Some(e.at) now />
                                    </td>
                                    <td class="cell-email">{who}</td>
                                    <td>
                                        {action_label(&e.action).to_owned()} <span class="cell-sub">
                                            <code>{e.action.clone()}</code>
                                        </span>
                                    </td>
                                    <td>
                                        {match e.target.split_once(':') {
                                            Some((kind, id)) if id.parse::<i64>().is_ok() => {
                                                let href = target_href(kind, id.parse().unwrap_or(0));
                                                view! {
                                                    <a href=href title=format!("The history of {}", e.target)>
                                                        <code>{e.target.clone()}</code>
                                                    </a>
                                                }
                                                    .into_any()
                                            }
                                            _ => view! { <code>{e.target.clone()}</code> }.into_any(),
                                        }}
                                    </td>
                                    <td class="cell-detail">{e.detail.clone()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {empty
                .then(|| {
                    view! {
                        <p class="table-empty">
                            {if filtered {
                                "No entries match these filters."
                            } else {
                                "Nothing has been recorded yet."
                            }}
                        </p>
                    }
                })}
        </div>
        <Pager total=page.matching page=page.page rows=shown noun="entries" href=page_href />
    }
}

//! `/dashboard/configuration/routes`: cards, the routes with their targets in the order tried
//! (provider, upstream model, prices, output limit), the teams that may use them, their state
//! and this month's requests and spend; Add, Edit, Disable/Enable and Delete for Owners and
//! Admins. Routes from the providers file are marked and read-only.

use super::api::{AddRoute, DeleteRoute, EditRoute, SetRouteEnabled, list_routes};
use super::form::{AddRouteDialog, Choices, EditRouteDialog};
use crate::components::{Loaded, OpenButton, PageHeader, RowSwitches, SummaryCards};
use crate::list_page::{ListChanges, use_list_page};
use domain::Action;
use domain::dto::SessionUser;
use domain::money::Money;
use domain::numbers::grouped;
use domain::routes::{RouteRow, RoutesView};
use leptos::prelude::*;

/// What a row hands back to the page, which outlives the row when the list reloads.
#[derive(Clone, Copy)]
struct RowHooks {
    edit: Callback<RouteRow>,
    enable: ServerAction<SetRouteEnabled>,
    delete: ServerAction<DeleteRoute>,
}

#[component]
pub fn RoutesPage() -> impl IntoView {
    let add_open = RwSignal::new(false);
    let (edit_open, editing) = (RwSignal::new(false), RwSignal::new(None::<RouteRow>));
    let add = ServerAction::<AddRoute>::new();
    let edit = ServerAction::<EditRoute>::new();
    let enable = ServerAction::<SetRouteEnabled>::new();
    let delete = ServerAction::<DeleteRoute>::new();
    let changes = ListChanges::new()
        .toasted_on_success(add, |_| {
            "Route added: clients can call it from the next request.".to_owned()
        })
        .toasted_on_success(edit, |()| {
            "Saved: the gateway uses it from the next request.".to_owned()
        })
        .toasted(enable, |()| {
            "Saved: the gateway uses it from the next request.".to_owned()
        })
        .toasted(delete, |()| "The route was deleted.".to_owned());
    let page = use_list_page(|| (), changes, |()| list_routes());
    // The last choices read: a reload after a refused save must not redraw the dialog.
    let choices = Memo::new(move |last: Option<&Choices>| match page.get() {
        Some(Ok(view)) => Choices {
            providers: view.providers,
            teams: view.teams,
        },
        _ => last.cloned().unwrap_or_default(),
    });
    let hooks = RowHooks {
        edit: Callback::new(move |row| {
            editing.set(Some(row));
            edit_open.set(true);
        }),
        enable,
        delete,
    };
    // From the session, as the server renders it (see the Providers page).
    let can_change =
        use_context::<SessionUser>().is_some_and(|me| me.actor().can(Action::ConfigureGateway));
    view! {
        <PageHeader
            title="Routes"
            lead="The model names clients ask for, each sent to a list of provider targets in order: the first that answers serves the request, at its prices."
        >
            <OpenButton label="Add route" open=add_open shown=can_change />
        </PageHeader>
        <AddRouteDialog open=add_open action=add choices />
        <EditRouteDialog open=edit_open route=editing action=edit choices />
        <Loaded
            resource=page
            loading="Loading routes…"
            show=move |view| view! { <Routes view hooks /> }.into_any()
        />
    }
}

#[component]
fn Routes(view: RoutesView, hooks: RowHooks) -> impl IntoView {
    let served = view.rows.iter().filter(|r| r.is_served()).count();
    let with_fallback = view.rows.iter().filter(|r| r.targets.len() > 1).count();
    let spend: i64 = view
        .rows
        .iter()
        .filter_map(|r| r.usage)
        .map(|u| u.spend_micros)
        .sum();
    let can_change = view.can_change;
    let shows_usage = view.shows_usage;
    let empty = view.rows.is_empty();
    let no_providers = view.providers.is_empty();
    let mut cards = vec![
        ("Routes", view.rows.len().to_string()),
        ("Served", served.to_string()),
        ("With a fallback", with_fallback.to_string()),
    ];
    if shows_usage {
        cards.push(("Spend this month", Money::from_micros(spend).to_string()));
    }
    view! {
        <SummaryCards cards />
        <div class="table-wrap table-scroll">
            <table class="data-table routes-table">
                <thead>
                    <tr>
                        <th scope="col">"Model"</th>
                        <th scope="col">"Targets, in order"</th>
                        <th scope="col">"Teams"</th>
                        <th scope="col">"State"</th>
                        {shows_usage
                            .then(|| {
                                view! {
                                    <th scope="col" class="num">
                                        "Requests"
                                    </th>
                                    <th scope="col" class="num">
                                        "Spend"
                                    </th>
                                }
                            })}
                        <th scope="col" class="col-actions">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {view
                        .rows
                        .into_iter()
                        .map(|row| view! { <RouteRowView row can_change hooks /> })
                        .collect_view()}
                </tbody>
            </table>
            {empty
                .then(|| {
                    let text = match (can_change, no_providers) {
                        (true, true) => {
                            "No routes yet. Add a provider first (Providers), then a route that sends a model name to it."
                        }
                        (true, false) => {
                            "No routes yet. Add one to give clients a model name to call."
                        }
                        (false, _) => "No routes yet.",
                    };
                    view! { <p class="table-empty">{text}</p> }
                })}
        </div>
        <p class="field-hint kind-hint">
            {format!(
                "Requests and spend are for {} (UTC), by the model name clients asked for, over every team. A key of a team a route is not open to gets 404 model_not_found, as for a model that does not exist. Price changes apply from the next request; past usage keeps the price it was charged at.",
                view.month,
            )}
        </p>
        <AuditLink />
    }
}

#[component]
fn RouteRowView(row: RouteRow, can_change: bool, hooks: RowHooks) -> impl IntoView {
    let RowHooks {
        edit,
        enable,
        delete,
    } = hooks;
    let id = row.id;
    let busy = move || {
        (enable.pending().get() && enable.input().get().map(|i| i.id) == Some(id))
            || (delete.pending().get() && delete.input().get().map(|i| i.id) == Some(id))
    };
    let teams = match &row.teams {
        None => view! { <span class="muted">"All"</span> }.into_any(),
        Some(teams) if teams.is_empty() => view! {
            <span class="muted" title="The teams it was kept to were deleted.">
                "None (teams deleted)"
            </span>
        }
        .into_any(),
        Some(teams) => teams
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
            .into_any(),
    };
    let targets = row
        .targets
        .iter()
        .map(|t| {
            let off = (!t.provider_enabled).then(|| {
                view! { <span class="badge badge-log">"provider disabled"</span> }
            });
            view! {
                <li class:muted=!t.provider_enabled>
                    <strong>{t.provider.clone()}</strong>
                    " · "
                    <code>{t.upstream_name.clone()}</code>
                    " "
                    {off}
                    <br />
                    <span class="muted">
                        {format!(
                            "{} · up to {} tokens out",
                            t.prices(),
                            grouped(t.max_output_tokens),
                        )}
                    </span>
                </li>
            }
        })
        .collect_view();
    let state = if !row.enabled {
        view! { <span class="status status-suspended">"Disabled"</span> }.into_any()
    } else if row.is_served() {
        view! { <span class="status status-active">"Enabled"</span> }.into_any()
    } else {
        view! {
            <span class="status status-invited" title="Every provider it sends to is disabled.">
                "No provider enabled"
            </span>
        }
        .into_any()
    };
    let actions = (can_change && !row.from_file).then(|| {
        let edit_row = row.clone();
        view! {
            <RowSwitches
                noun="route"
                name=row.name.clone()
                enabled=row.enabled
                on_edit=Callback::new(move |()| edit.run(edit_row.clone()))
                on_enabled=Callback::new(move |enabled| {
                    enable.dispatch(SetRouteEnabled { id, enabled });
                })
                on_delete=Callback::new(move |()| {
                    delete.dispatch(DeleteRoute { id });
                })
                disable_detail="Clients calling it get 404 model_not_found from the next request. You can enable it again."
                    .to_owned()
                delete_detail="Clients calling it get 404 model_not_found from the next request. Its usage stays on the Usage page under its name."
            />
        }
    });
    let from_file = row.from_file.then(|| {
        view! {
            <span
                class="badge badge-file"
                title="Set in the providers file: change it there and restart."
            >
                "from file"
            </span>
        }
    });
    view! {
        <tr class="row" class:row-busy=busy>
            <td class="cell-name">
                <code>{row.name.clone()}</code>
                " "
                {from_file}
            </td>
            <td>
                <ol class="target-list">{targets}</ol>
            </td>
            <td>{teams}</td>
            <td>{state}</td>
            {row
                .usage
                .map(|u| {
                    view! {
                        <td class="num">{grouped(u.requests)}</td>
                        <td class="num">{Money::from_micros(u.spend_micros).to_string()}</td>
                    }
                })}
            <td class="col-actions">
                <div class="row-actions">{actions}</div>
            </td>
        </tr>
    }
}

/// Where changes to routes are listed, for those who read the audit log.
#[component]
fn AuditLink() -> impl IntoView {
    let reads = use_context::<SessionUser>().is_some_and(|me| me.actor().can(Action::ReadAudit));
    reads.then(|| {
        view! {
            <p>
                <a class="detail-link" href="/dashboard/configuration/audit?kind=routes">
                    "Changes to routes in the audit log"
                </a>
            </p>
        }
    })
}

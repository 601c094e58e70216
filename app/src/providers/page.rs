//! `/dashboard/configuration/providers`: cards, the providers with their key (only whether one
//! is set and its last four characters), timeout, state, last connection test and the routes
//! that send to them; Add, Edit, Test connection, Disable/Enable and Delete for Owners and Admins.
//! Providers from the providers file are marked and read-only.

use super::api::{
    AddProvider, DeleteProvider, EditProvider, SetProviderEnabled, TestProvider, list_providers,
};
use super::form::{AddProviderDialog, EditProviderDialog};
use crate::components::{
    Ago, Loaded, OpenButton, PageHeader, RowSwitches, SummaryCards, use_toasts,
};
use crate::list_page::{ListChanges, use_list_page};
use chrono::{DateTime, Utc};
use domain::Action;
use domain::dto::SessionUser;
use domain::providers::{Health, KIND_HINT, ProviderRow, ProvidersView};
use leptos::prelude::*;

/// What a row hands back to the page, which outlives the row when the list reloads.
#[derive(Clone, Copy)]
struct RowHooks {
    edit: Callback<ProviderRow>,
    enable: ServerAction<SetProviderEnabled>,
    delete: ServerAction<DeleteProvider>,
    test: ServerAction<TestProvider>,
}

#[component]
pub fn ProvidersPage() -> impl IntoView {
    let add_open = RwSignal::new(false);
    let (edit_open, editing) = (RwSignal::new(false), RwSignal::new(None::<ProviderRow>));
    let add = ServerAction::<AddProvider>::new();
    let edit = ServerAction::<EditProvider>::new();
    let enable = ServerAction::<SetProviderEnabled>::new();
    let delete = ServerAction::<DeleteProvider>::new();
    let test = ServerAction::<TestProvider>::new();
    let changes = ListChanges::new()
        .by(add)
        .by(edit)
        .toasted(enable, |()| {
            "Saved: the gateway uses it from the next request.".to_owned()
        })
        .toasted(delete, |()| "The provider was deleted.".to_owned())
        .by(test);
    tested_toasts(test);
    let page = use_list_page(|| (), changes, |()| list_providers());
    let hooks = RowHooks {
        edit: Callback::new(move |row| {
            editing.set(Some(row));
            edit_open.set(true);
        }),
        enable,
        delete,
        test,
    };
    // From the session, as the server renders it: the list's own answer arrives later, and a
    // button that appears only in the browser would not match the page it hydrates.
    let can_change =
        use_context::<SessionUser>().is_some_and(|me| me.actor().can(Action::ConfigureGateway));
    view! {
        <PageHeader
            title="Providers"
            lead="The upstreams the gateway forwards requests to. Keys are stored encrypted and never shown again; changes apply from the next request."
        >
            <OpenButton label="Add provider" open=add_open shown=can_change />
        </PageHeader>
        <AddProviderDialog open=add_open action=add />
        <EditProviderDialog open=edit_open provider=editing action=edit />
        <Loaded
            resource=page
            loading="Loading providers…"
            show=move |view| view! { <Providers view hooks /> }.into_any()
        />
    }
}

/// Says how each connection test went: a success, or what failed and what to check.
fn tested_toasts(test: ServerAction<TestProvider>) {
    Effect::new(move |_| {
        let (Some(result), Some(toasts)) = (test.value().get(), use_toasts()) else {
            return;
        };
        match result {
            Ok(h) if h.outcome.is_ok() => {
                toasts.success(format!("Connection test: {}.", h.outcome.summary()));
            }
            Ok(h) => toasts.error(format!(
                "Connection test: {}. Check the base URL, the key, and that the gateway can reach the provider.",
                h.outcome.summary()
            )),
            Err(e) => toasts.error(e.to_string()),
        }
    });
}

#[component]
fn Providers(view: ProvidersView, hooks: RowHooks) -> impl IntoView {
    let enabled = view.rows.iter().filter(|r| r.enabled).count();
    let failing = view
        .rows
        .iter()
        .filter(|r| r.health.as_ref().is_some_and(|h| !h.outcome.is_ok()))
        .count();
    let can_change = view.can_change;
    let now = view.generated_at;
    let empty = view.rows.is_empty();
    view! {
        <SummaryCards cards=vec![
            ("Providers", view.rows.len().to_string()),
            ("Enabled", enabled.to_string()),
            ("Routes", view.routes.to_string()),
            ("Failing checks", failing.to_string()),
        ] />
        <div class="table-wrap table-scroll">
            <table class="data-table providers-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Base URL"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Timeout"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Health"</th>
                        <th scope="col">"Routes"</th>
                        <th scope="col" class="col-actions">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {view
                        .rows
                        .into_iter()
                        .map(|row| view! { <ProviderRowView row can_change now hooks /> })
                        .collect_view()}
                </tbody>
            </table>
            {empty
                .then(|| {
                    view! {
                        <p class="table-empty">
                            {if can_change {
                                "No providers yet. Add one, or name them in the providers file (TOLLGATE_PROVIDERS)."
                            } else {
                                "No providers yet."
                            }}
                        </p>
                    }
                })}
        </div>
        <p class="field-hint kind-hint">"OpenAI-compatible: " {KIND_HINT}</p>
        <AuditLink />
    }
}

#[component]
fn ProviderRowView(
    row: ProviderRow,
    can_change: bool,
    now: DateTime<Utc>,
    hooks: RowHooks,
) -> impl IntoView {
    let RowHooks {
        edit,
        enable,
        delete,
        test,
    } = hooks;
    let id = row.id;
    let name = row.name.clone();
    let key = match (&row.key_last4, &row.key_env) {
        (Some(last4), Some(var)) => format!("Set ····{last4} (from {var})"),
        (Some(last4), None) => format!("Set ····{last4}"),
        (None, _) => "None".to_owned(),
    };
    let testing = move || test.pending().get() && test.input().get().map(|i| i.id) == Some(id);
    let busy = move || {
        (enable.pending().get() && enable.input().get().map(|i| i.id) == Some(id))
            || (delete.pending().get() && delete.input().get().map(|i| i.id) == Some(id))
    };
    let models = if row.routes.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        row.routes.join(", ").into_any()
    };
    let disable_detail = if row.routes.is_empty() {
        "Requests stop going to it from the next one. You can enable it again.".to_owned()
    } else {
        format!(
            "Routes {} skip it (a route with no other target is not offered) until it is enabled again.",
            row.routes.join(", ")
        )
    };
    let actions = (can_change && !row.from_file).then(|| {
        let edit_row = row.clone();
        view! {
            <RowSwitches
                noun="provider"
                name=name
                enabled=row.enabled
                on_edit=Callback::new(move |()| edit.run(edit_row.clone()))
                on_enabled=Callback::new(move |enabled| {
                    enable.dispatch(SetProviderEnabled { id, enabled });
                })
                on_delete=Callback::new(move |()| {
                    delete.dispatch(DeleteProvider { id });
                })
                disable_detail
                delete_detail="Its key is deleted with it. The audit log keeps that it existed."
            />
        }
    });
    let test_button = can_change.then(|| {
        view! {
            <button
                type="button"
                class="btn btn-small btn-ghost"
                aria-label=format!("Test connection to {}", row.name)
                disabled=testing
                on:click=move |_| {
                    test.dispatch(TestProvider { id });
                }
            >
                {move || if testing() { "Testing…" } else { "Test connection" }}
            </button>
        }
    });
    view! {
        <tr class="row" class:row-busy=busy>
            <td class="cell-name">
                {row.name.clone()}
                {row
                    .from_file
                    .then(|| {
                        view! {
                            <span
                                class="badge badge-file"
                                title="Made by the providers file (TOLLGATE_PROVIDERS): change it there and restart."
                            >
                                "from file"
                            </span>
                        }
                    })}
            </td>
            <td class="cell-url">
                <code>{row.base_url.clone()}</code>
            </td>
            <td>
                <span title=KIND_HINT>"OpenAI-compatible"</span>
            </td>
            <td class="cell-key">{key}</td>
            <td>{format!("{} s", row.timeout_secs)}</td>
            <td>
                {if row.enabled {
                    view! { <span class="status status-active">"Enabled"</span> }.into_any()
                } else {
                    view! { <span class="status status-suspended">"Disabled"</span> }.into_any()
                }}
            </td>
            <td>
                <HealthCell health=row.health.clone() now />
            </td>
            <td>{models}</td>
            <td class="col-actions">
                <div class="row-actions">{test_button} {actions}</div>
            </td>
        </tr>
    }
}

#[component]
fn HealthCell(health: Option<Health>, now: DateTime<Utc>) -> impl IntoView {
    match health {
        None => view! { <span class="muted">"Not tested"</span> }.into_any(),
        Some(h) => {
            let class = if h.outcome.is_ok() {
                "status status-active"
            } else {
                "status status-suspended"
            };
            view! {
                <span class=class>{h.outcome.summary()}</span>
                <br />
                <small class="muted">
                    <Ago at=Some(h.at) now />
                </small>
            }
            .into_any()
        }
    }
}

/// Where changes to providers are listed, for those who read the audit log.
#[component]
fn AuditLink() -> impl IntoView {
    let reads = use_context::<SessionUser>().is_some_and(|me| me.actor().can(Action::ReadAudit));
    reads.then(|| {
        view! {
            <p>
                <a class="detail-link" href="/dashboard/configuration/audit?kind=providers">
                    "Changes to providers in the audit log"
                </a>
            </p>
        }
    })
}

//! `/dashboard/configuration/guardrails`: cards, the rules with what they check, the models and
//! teams they check, what they do, their state and this month's count; Add, Edit, Disable/Enable
//! and Delete for Owners and Admins.

use super::api::{
    AddGuardrail, DeleteGuardrail, EditGuardrail, SetGuardrailEnabled, list_guardrails,
};
use super::form::{AddGuardrailDialog, Choices, EditGuardrailDialog};
use crate::components::{Loaded, OpenButton, PageHeader, RowSwitches, SummaryCards};
use crate::list_page::{ListChanges, use_list_page};
use domain::Action;
use domain::dto::SessionUser;
use domain::guardrails::{Enforcement, GuardrailRow, GuardrailsView};
use domain::numbers::grouped;
use leptos::prelude::*;

/// What a row hands back to the page, which outlives the row when the list reloads.
#[derive(Clone, Copy)]
struct RowHooks {
    edit: Callback<GuardrailRow>,
    enable: ServerAction<SetGuardrailEnabled>,
    delete: ServerAction<DeleteGuardrail>,
}

#[component]
pub fn GuardrailsPage() -> impl IntoView {
    let add_open = RwSignal::new(false);
    let (edit_open, editing) = (RwSignal::new(false), RwSignal::new(None::<GuardrailRow>));
    let add = ServerAction::<AddGuardrail>::new();
    let edit = ServerAction::<EditGuardrail>::new();
    let enable = ServerAction::<SetGuardrailEnabled>::new();
    let delete = ServerAction::<DeleteGuardrail>::new();
    let changes = ListChanges::new()
        .toasted_on_success(add, |_| {
            "Guardrail added: it checks requests from the next one.".to_owned()
        })
        .toasted_on_success(edit, |()| {
            "Saved: the gateway uses it from the next request.".to_owned()
        })
        .toasted(enable, |()| {
            "Saved: the gateway uses it from the next request.".to_owned()
        })
        .toasted(delete, |()| "The guardrail was deleted.".to_owned());
    let page = use_list_page(|| (), changes, |()| list_guardrails());
    // The last choices read: a reload after a refused save must not redraw the dialog's ticks.
    let choices = Memo::new(move |last: Option<&Choices>| match page.get() {
        Some(Ok(view)) => Choices {
            models: view.models,
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
            title="Guardrails"
            lead="Rules checked against a request's messages before anything is held or forwarded. A blocking rule refuses it; a logging rule lets it through and counts it."
        >
            <OpenButton label="Add guardrail" open=add_open shown=can_change />
        </PageHeader>
        <AddGuardrailDialog open=add_open action=add choices />
        <EditGuardrailDialog open=edit_open rule=editing action=edit choices />
        <Loaded
            resource=page
            loading="Loading guardrails…"
            show=move |view| view! { <Guardrails view hooks /> }.into_any()
        />
    }
}

#[component]
fn Guardrails(view: GuardrailsView, hooks: RowHooks) -> impl IntoView {
    let enabled = view.rows.iter().filter(|r| r.enabled).count();
    let hits = |e: Enforcement| {
        view.rows
            .iter()
            .filter(|r| r.enforcement == e)
            .map(|r| r.hits)
            .sum::<u64>()
    };
    let (blocked, logged) = (hits(Enforcement::Block), hits(Enforcement::Log));
    let can_change = view.can_change;
    let empty = view.rows.is_empty();
    view! {
        <SummaryCards cards=vec![
            ("Rules", view.rows.len().to_string()),
            ("Enabled", enabled.to_string()),
            ("Blocked this month", grouped(blocked)),
            ("Logged this month", grouped(logged)),
        ] />
        <div class="table-wrap table-scroll">
            <table class="data-table guardrails-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Checks"</th>
                        <th scope="col">"Models"</th>
                        <th scope="col">"Teams"</th>
                        <th scope="col">"When it matches"</th>
                        <th scope="col">"State"</th>
                        <th scope="col" class="num">
                            "This month"
                        </th>
                        <th scope="col" class="col-actions">
                            <span class="sr-only">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {view
                        .rows
                        .into_iter()
                        .map(|row| view! { <RuleRow row can_change hooks /> })
                        .collect_view()}
                </tbody>
            </table>
            {empty
                .then(|| {
                    view! {
                        <p class="table-empty">
                            {if can_change {
                                "No guardrails yet. Add one to block or count prompts that are too long or hold words or patterns you name."
                            } else {
                                "No guardrails yet."
                            }}
                        </p>
                    }
                })}
        </div>
        <p class="field-hint kind-hint">
            {format!(
                "Counts are for {} (UTC). A blocked client gets 400 with the code guardrail_blocked and the rule's name, never the text that matched; blocked requests also appear on the Usage page's refusals.",
                view.month,
            )}
        </p>
        <AuditLink />
    }
}

#[component]
fn RuleRow(row: GuardrailRow, can_change: bool, hooks: RowHooks) -> impl IntoView {
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
    let models = if row.models.is_empty() {
        view! { <span class="muted">"All"</span> }.into_any()
    } else {
        row.models.join(", ").into_any()
    };
    let teams = match &row.teams {
        None => view! { <span class="muted">"All"</span> }.into_any(),
        Some(teams) if teams.is_empty() => view! {
            <span class="muted" title="The teams it was limited to were deleted.">
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
    let actions = can_change.then(|| {
        let edit_row = row.clone();
        view! {
            <RowSwitches
                noun="guardrail"
                name=row.name.clone()
                enabled=row.enabled
                on_edit=Callback::new(move |()| edit.run(edit_row.clone()))
                on_enabled=Callback::new(move |enabled| {
                    enable.dispatch(SetGuardrailEnabled { id, enabled });
                })
                on_delete=Callback::new(move |()| {
                    delete.dispatch(DeleteGuardrail { id });
                })
                disable_detail="Requests stop being checked against it from the next one. Its count stays, and you can enable it again."
                    .to_owned()
                delete_detail="Its counts are deleted with it. The audit log keeps that it existed."
            />
        }
    });
    let (action_class, action_label) = match row.enforcement {
        Enforcement::Block => ("badge badge-block", "Block"),
        Enforcement::Log => ("badge badge-log", "Log only"),
    };
    view! {
        <tr class="row" class:row-busy=busy>
            <td class="cell-name">{row.name.clone()}</td>
            <td class="cell-check">
                <span class="muted">{row.test.check().label()}</span>
                <br />
                <span class="check-summary">{row.summary.clone()}</span>
            </td>
            <td>{models}</td>
            <td>{teams}</td>
            <td>
                <span class=action_class>{action_label}</span>
            </td>
            <td>
                {if row.enabled {
                    view! { <span class="status status-active">"Enabled"</span> }.into_any()
                } else {
                    view! { <span class="status status-suspended">"Disabled"</span> }.into_any()
                }}
            </td>
            <td class="num">{grouped(row.hits)}</td>
            <td class="col-actions">
                <div class="row-actions">{actions}</div>
            </td>
        </tr>
    }
}

/// Where changes to guardrails are listed, for those who read the audit log.
#[component]
fn AuditLink() -> impl IntoView {
    let reads = use_context::<SessionUser>().is_some_and(|me| me.actor().can(Action::ReadAudit));
    reads.then(|| {
        view! {
            <p>
                <a class="detail-link" href="/dashboard/configuration/audit?kind=guardrails">
                    "Changes to guardrails in the audit log"
                </a>
            </p>
        }
    })
}

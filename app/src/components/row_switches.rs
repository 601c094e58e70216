//! Edit, Disable or Enable, and Delete for one row of a configuration list (providers,
//! guardrails): disabling and deleting ask first, saying what follows; enabling does not.

use super::ConfirmDialog;
use leptos::prelude::*;

#[component]
pub fn RowSwitches(
    /// What a row is, for the confirmations ("provider").
    noun: &'static str,
    name: String,
    enabled: bool,
    on_edit: Callback<()>,
    /// Called with the state asked for.
    on_enabled: Callback<bool>,
    on_delete: Callback<()>,
    /// What disabling does, for its confirmation.
    disable_detail: String,
    /// What deleting does, for its confirmation.
    delete_detail: &'static str,
) -> impl IntoView {
    let confirm_delete = RwSignal::new(false);
    let confirm_disable = RwSignal::new(false);
    let delete_title = format!("Delete {noun} ‘{name}’?");
    let disable_title = format!("Disable {noun} ‘{name}’?");
    let toggle = if enabled {
        view! {
            <button
                type="button"
                class="btn btn-small btn-ghost"
                aria-label=format!("Disable {name}")
                on:click=move |_| confirm_disable.set(true)
            >
                "Disable"
            </button>
        }
        .into_any()
    } else {
        view! {
            <button
                type="button"
                class="btn btn-small btn-ghost"
                aria-label=format!("Enable {name}")
                on:click=move |_| on_enabled.run(true)
            >
                "Enable"
            </button>
        }
        .into_any()
    };
    view! {
        <div class="row-buttons">
            <button
                type="button"
                class="btn btn-small btn-ghost"
                aria-label=format!("Edit {name}")
                on:click=move |_| on_edit.run(())
            >
                "Edit"
            </button>
            {toggle}
            <button
                type="button"
                class="btn btn-small btn-ghost btn-danger-text"
                aria-label=format!("Delete {name}")
                on:click=move |_| confirm_delete.set(true)
            >
                "Delete"
            </button>
        </div>
        <ConfirmDialog
            open=confirm_disable
            title=Signal::derive(move || disable_title.clone())
            detail=disable_detail
            confirm_label="Disable"
            on_confirm=Callback::new(move |()| on_enabled.run(false))
        />
        <ConfirmDialog
            open=confirm_delete
            title=Signal::derive(move || delete_title.clone())
            detail=delete_detail
            confirm_label="Delete"
            on_confirm=on_delete
        />
    }
}

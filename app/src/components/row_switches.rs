//! Edit, Disable or Enable, and Delete for one row of a configuration list (providers,
//! guardrails): disabling and deleting ask first, saying what follows; enabling does not.

use super::ConfirmButton;
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
    let toggle = if enabled {
        view! {
            <ConfirmButton
                label="Disable"
                class="btn btn-small btn-ghost"
                aria_label=format!("Disable {name}")
                title=format!("Disable {noun} ‘{name}’?")
                detail=disable_detail
                confirm_label="Disable"
                on_confirm=Callback::new(move |()| on_enabled.run(false))
            />
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
            <ConfirmButton
                label="Delete"
                aria_label=format!("Delete {name}")
                title=format!("Delete {noun} ‘{name}’?")
                detail=delete_detail
                confirm_label="Delete"
                on_confirm=on_delete
            />
        </div>
    }
}

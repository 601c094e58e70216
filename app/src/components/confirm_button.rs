//! A button for something that cannot be taken back: it asks first, in a [`ConfirmDialog`]
//! that says what follows, and acts only once confirmed.

use super::ConfirmDialog;
use leptos::prelude::*;

#[component]
pub fn ConfirmButton(
    /// The button's text ("Delete", "Turn off single sign-on…").
    label: &'static str,
    #[prop(default = "btn btn-small btn-ghost btn-danger-text")] class: &'static str,
    /// Names the row a row's button acts on ("Delete Research").
    #[prop(optional)]
    aria_label: Option<String>,
    /// Off while the action runs.
    #[prop(optional, into)]
    disabled: Signal<bool>,
    /// The question ("Delete team ‘Research’?").
    #[prop(into)]
    title: String,
    /// What follows, in the dialog.
    #[prop(into)]
    detail: String,
    /// The dialog's confirm button ("Delete").
    confirm_label: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <button
            type="button"
            class=class
            aria-label=aria_label
            disabled=disabled
            on:click=move |_| open.set(true)
        >
            {label}
        </button>
        <ConfirmDialog open title=Signal::stored(title) detail=detail confirm_label on_confirm />
    }
}

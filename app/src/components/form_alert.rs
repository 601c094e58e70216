//! A message about a whole form (not one field), announced to screen readers.

use leptos::prelude::*;

/// An error banner above a form; renders nothing while `message` is `None`.
#[component]
pub fn FormAlert(message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message
            .get()
            .map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })
    }
}

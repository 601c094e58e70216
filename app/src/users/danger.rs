//! The danger zone (Owners only): delete the gateway's access list, after typing a phrase.

use super::api::ResetAccessList;
use crate::components::Modal;
use domain::users::RESET_CONFIRMATION;
use leptos::prelude::*;

#[component]
pub fn DangerZone(
    /// The page's reset action: the users list reloads, and a toast says what went, when it
    /// finishes.
    action: ServerAction<ResetAccessList>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            open.set(false);
            typed.set(String::new());
        }
    });
    let matches = move || typed.get().trim() == RESET_CONFIRMATION;
    view! {
        <section class="danger-zone" aria-labelledby="danger-title">
            <div>
                <h2 id="danger-title">"Danger zone"</h2>
                <p class="muted">
                    "Delete this gateway's access list: every user but you, every team and every API key. Usage history and the audit log stay. This cannot be undone."
                </p>
            </div>
            <button type="button" class="btn btn-danger" on:click=move |_| open.set(true)>
                "Delete access list…"
            </button>
        </section>
        <Modal
            open
            title=Signal::derive(|| "Delete the access list?".to_owned())
            role="alertdialog"
        >
            <p class="muted">
                "Everyone else loses access at once, and every team and key is removed."
            </p>
            <ActionForm action=action attr:class="form form-tight">
                <div class="field" class:field-invalid=move || error().is_some()>
                    <label for="reset-confirmation">
                        {format!("Type \u{201c}{RESET_CONFIRMATION}\u{201d} to confirm")}
                    </label>
                    <input
                        id="reset-confirmation"
                        name="confirmation"
                        class="input"
                        autocomplete="off"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                    {move || {
                        error()
                            .map(|e| {
                                view! {
                                    <p class="field-error" role="alert">
                                        {e}
                                    </p>
                                }
                            })
                    }}
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| open.set(false)>
                        "Cancel"
                    </button>
                    <button
                        type="submit"
                        class="btn btn-danger"
                        disabled=move || !matches() || action.pending().get()
                    >
                        {move || {
                            if action.pending().get() {
                                "Deleting…"
                            } else {
                                "Delete access list"
                            }
                        }}
                    </button>
                </div>
            </ActionForm>
        </Modal>
    }
}

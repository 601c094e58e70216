//! Modal dialogs: a titled panel over the page that Escape closes, and a confirmation for
//! destructive actions.

use leptos::html;
use leptos::prelude::*;

/// A modal dialog shown while `open` is true. Escape or the backdrop closes it; focus moves to
/// the first focusable element inside when it opens.
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    title: Signal<String>,
    #[prop(default = "dialog")] role: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let panel = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if open.get()
            && let Some(el) = panel.get()
            && let Ok(Some(target)) = el.query_selector("[autofocus], input, select, button")
            && let Some(target) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&target)
        {
            let _ = target.focus();
        }
    });
    // Escape closes the dialog wherever focus is (a disabled button may have dropped it).
    let on_escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && open.get_untracked() {
            open.set(false);
        }
    });
    on_cleanup(move || on_escape.remove());
    let children = StoredValue::new(children);
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| open.set(false)>
                <div
                    class="modal"
                    role=role
                    aria-modal="true"
                    aria-labelledby="modal-title"
                    node_ref=panel
                    on:click=|ev| ev.stop_propagation()
                >
                    <h2 id="modal-title">{move || title.get()}</h2>
                    {children.read_value()()}
                </div>
            </div>
        </Show>
    }
}

/// Asks "are you sure?" before `on_confirm`; the confirm button names the action.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    title: Signal<String>,
    #[prop(into)] detail: Signal<String>,
    confirm_label: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    view! {
        <Modal open title role="alertdialog">
            <p class="muted">{move || detail.get()}</p>
            <div class="modal-actions">
                <button
                    type="button"
                    class="btn btn-ghost"
                    autofocus
                    on:click=move |_| open.set(false)
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="btn btn-danger"
                    on:click=move |_| {
                        open.set(false);
                        on_confirm.run(());
                    }
                >
                    {confirm_label}
                </button>
            </div>
        </Modal>
    }
}

/// A form dialog's `action`: a successful save closes the dialog (the list reloads on its own);
/// reopening starts afresh.
pub fn saved_closes<S>(action: ServerAction<S>, open: RwSignal<bool>)
where
    S: leptos::server_fn::ServerFn<Error = crate::error::AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if action.value().get().is_some_and(|r| r.is_ok()) {
            open.set(false);
            action.clear();
        }
    });
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        if is_open && was_open == Some(false) {
            action.clear();
        }
        is_open
    });
}

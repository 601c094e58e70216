//! Modal dialogs: a titled panel over the page that Escape closes, and a confirmation for
//! destructive actions.

use leptos::html;
use leptos::prelude::*;

/// A modal dialog shown while `open` is true. Escape or the backdrop closes it. Focus moves to
/// the first focusable element inside when it opens, Tab and Shift+Tab go round inside it, and
/// on closing focus goes back to what opened it (when that is still on the page).
#[component]
pub fn Modal(
    open: RwSignal<bool>,
    title: Signal<String>,
    #[prop(default = "dialog")] role: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let panel = NodeRef::<html::Div>::new();
    // Runs again when the panel appears; remembers whether it was open and who opened it.
    Effect::new(
        move |before: Option<(bool, Option<web_sys::HtmlElement>)>| {
            let (was_open, opener) = before.unwrap_or((false, None));
            let is_open = open.get();
            let opener = match (was_open, is_open) {
                (false, true) => focused(),
                (true, false) => {
                    if let Some(opener) = opener.filter(|el| el.is_connected()) {
                        let _ = opener.focus();
                    }
                    None
                }
                _ => opener,
            };
            if is_open
                && let Some(el) = panel.get()
                && !focused().is_some_and(|f| el.contains(Some(f.as_ref())))
                && let Ok(Some(target)) = el.query_selector("[autofocus], input, select, button")
                && let Some(target) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&target)
            {
                let _ = target.focus();
            }
            (is_open, opener)
        },
    );
    // Tab past the last control comes back to the first, Shift+Tab before the first to the last.
    let keep_focus_inside = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() != "Tab" {
            return;
        }
        let Some(el) = panel.get_untracked() else {
            return;
        };
        let controls = tabbable(&el);
        let (Some(first), Some(last)) = (controls.first(), controls.last()) else {
            return;
        };
        let now = focused();
        let at = |control: &web_sys::HtmlElement| now.as_ref() == Some(control);
        let to = match (ev.shift_key(), now.as_ref()) {
            (_, None) => Some(first),
            (_, Some(f)) if !el.contains(Some(f.as_ref())) => Some(first),
            (true, _) if at(first) => Some(last),
            (false, _) if at(last) => Some(first),
            _ => None,
        };
        if let Some(to) = to {
            ev.prevent_default();
            let _ = to.focus();
        }
    };
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
                    on:keydown=keep_focus_inside
                >
                    <h2 id="modal-title">{move || title.get()}</h2>
                    {children.read_value()()}
                </div>
            </div>
        </Show>
    }
}

/// The element that has the focus, if any.
fn focused() -> Option<web_sys::HtmlElement> {
    document()
        .active_element()
        .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
}

/// The controls inside `el` that Tab reaches, in order.
fn tabbable(el: &web_sys::HtmlElement) -> Vec<web_sys::HtmlElement> {
    const TABBABLE: &str = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
         select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
    let Ok(list) = el.query_selector_all(TABBABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(node).ok())
        .collect()
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

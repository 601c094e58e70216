//! Toasts: short messages after an action, announced to screen readers, gone after 5 seconds.

use leptos::prelude::*;

/// Whether a toast reports success or a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Toast {
    id: u64,
    kind: ToastKind,
    text: String,
}

/// The page's toasts; provided by the dashboard frame, used by any page.
#[derive(Debug, Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    fn new() -> Self {
        Toasts {
            list: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    /// Shows `text`; it disappears after five seconds or when dismissed.
    pub fn push(&self, kind: ToastKind, text: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|l| {
            l.push(Toast {
                id,
                kind,
                text: text.into(),
            })
        });
        let list = self.list;
        gloo_timers::callback::Timeout::new(5_000, move || {
            list.try_update(|l| l.retain(|t| t.id != id));
        })
        .forget();
    }

    pub fn success(&self, text: impl Into<String>) {
        self.push(ToastKind::Success, text);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(ToastKind::Error, text);
    }
}

/// The toasts of this page, if a frame provided them.
pub fn use_toasts() -> Option<Toasts> {
    use_context::<Toasts>()
}

/// Provides [`Toasts`] to the children and shows them in a live region.
#[component]
pub fn ToastRegion(children: Children) -> impl IntoView {
    let toasts = Toasts::new();
    provide_context(toasts);
    view! {
        {children()}
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.id let:toast>
                <div class=move || {
                    if toast.kind == ToastKind::Error {
                        "toast toast-error"
                    } else {
                        "toast toast-success"
                    }
                }>
                    <span>{toast.text.clone()}</span>
                    <button
                        type="button"
                        class="toast-close"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.list.update(|l| l.retain(|t| t.id != toast.id))
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

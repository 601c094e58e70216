//! A labelled form field with its error message right below it.

use leptos::prelude::*;

/// A labelled `<input>`; `error` holds the message for this field, shown below it and linked
/// to it for screen readers.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] minlength: Option<usize>,
    #[prop(optional)] maxlength: Option<usize>,
    /// The server's message about what was sent; it goes once the text is edited.
    error: Signal<Option<String>>,
    /// A check made as the text is typed, shown before `error`.
    #[prop(optional, into)]
    live: Option<Signal<Option<String>>>,
    /// The starting value (an edit form).
    #[prop(optional, into)]
    value: Option<String>,
    /// Called with the text on every keystroke, for checks before submit.
    #[prop(optional)]
    on_input: Option<Callback<String>>,
) -> impl IntoView {
    let (sent, edited) = until_edited(error);
    let error = Signal::derive(move || live.and_then(|l| l.get()).or_else(|| sent.get()));
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                autofocus=autofocus
                minlength=minlength
                maxlength=maxlength
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
                value=value
                on:input=move |ev| {
                    edited.set(true);
                    if let Some(cb) = on_input {
                        cb.run(event_target_value(&ev));
                    }
                }
            />
            {hint
                .map(|h| {
                    view! {
                        <p class="field-hint" id=hint_id.clone()>
                            {h}
                        </p>
                    }
                })}
            <FieldError error id=error_id />
        </div>
    }
}

/// A multi-line field: its label, textarea, hint and error.
#[component]
pub fn TextAreaField(
    label: &'static str,
    name: &'static str,
    value: String,
    hint: &'static str,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let (error, edited) = until_edited(error);
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <textarea
                id=id
                name=name
                class="input"
                rows="3"
                aria-describedby=hint_id.clone()
                aria-invalid=move || error.get().is_some().then_some("true")
                on:input=move |_| edited.set(true)
            >
                {value}
            </textarea>
            <p class="field-hint" id=hint_id>
                {hint}
            </p>
            <FieldError error id=error_id />
        </div>
    }
}

/// `error` until the field is edited: a message about what was sent goes once the text
/// changes, and the next answer shows again. Returns the message to show and the flag the
/// field's `input` handler sets.
fn until_edited(error: Signal<Option<String>>) -> (Signal<Option<String>>, RwSignal<bool>) {
    let edited = RwSignal::new(false);
    // Every answer (the same message again included) is shown afresh.
    Effect::new(move |_| {
        error.track();
        edited.set(false);
    });
    (
        Signal::derive(move || error.get().filter(|_| !edited.get())),
        edited,
    )
}

/// A field's error under it, while there is one; `id` lets the field point at it
/// (`aria-describedby`).
#[component]
pub fn FieldError(
    error: Signal<Option<String>>,
    #[prop(optional, into)] id: Option<String>,
) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <p class="field-error" id=id.clone()>
                    {e}
                </p>
            }
        })
    }
}

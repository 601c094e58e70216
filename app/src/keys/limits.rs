//! A key's monthly budget, per-minute limits and models: the fields the Create key dialog and the
//! Limits dialog share, and the Limits dialog itself (for whoever may revoke the key; a Member
//! only tightens).

use super::api::{SetKeyLimits, model_options};
use crate::components::{Field, FormAlert, FormErrors, Modal};
use domain::keys::KeyRow;
use domain::rate_limits::KeyLimits;
use leptos::prelude::*;

/// The names of the fields [`LimitFields`] shows, for the forms' error lists.
pub const LIMIT_FIELDS: [&str; 4] = [
    "budget",
    "requests_per_minute",
    "tokens_per_minute",
    "models",
];

/// The form fields a key's limits are set with; `current` fills them in. `ready`, when given,
/// turns true once the model list has loaded: a form that posts no models means "every
/// model", so one that could not show them must not be saved.
#[component]
pub fn LimitFields(
    current: KeyLimits,
    errors: FormErrors,
    #[prop(optional)] ready: Option<RwSignal<bool>>,
) -> impl IntoView {
    let (requests, tokens) = current.rates.fields();
    let budget = current.budget.map(|b| b.to_input()).unwrap_or_default();
    let models = Resource::new(|| (), |()| model_options());
    if let Some(ready) = ready {
        Effect::new(move |_| ready.set(models.get().is_some_and(|loaded| loaded.is_ok())));
    }
    let picked = current.models.unwrap_or_default();
    view! {
        <Field
            label="Monthly budget in $ (optional)"
            name="budget"
            kind="text"
            value=budget
            hint="Requests are refused once the key has spent this much this month (UTC). Empty: no budget of the key's own."
            error=errors.field("budget")
        />
        <Field
            label="Requests per minute (optional)"
            name="requests_per_minute"
            kind="text"
            value=requests
            hint="A burst of this many at once, then evenly over the minute. Empty: no limit of the key's own."
            error=errors.field("requests_per_minute")
        />
        <Field
            label="Tokens per minute (optional)"
            name="tokens_per_minute"
            kind="text"
            value=tokens
            hint="Each request holds its prompt and its output limit; what it did not use comes back."
            error=errors.field("tokens_per_minute")
        />
        <fieldset
            class="field check-list"
            class:field-invalid=move || errors.field("models").get().is_some()
        >
            <legend>"Models it may call"</legend>
            <p class="field-hint">"None ticked: every model the gateway serves."</p>
            <Suspense fallback=|| {
                view! { <p class="muted">"Loading models…"</p> }
            }>
                {move || {
                    let picked = picked.clone();
                    Suspend::new(async move {
                        let names = match models.await {
                            Ok(names) => names,
                            Err(e) => {
                                return view! {
                                    <p class="field-error" role="alert">
                                        {format!(
                                            "The models could not be loaded ({e}). Close this and try again.",
                                        )}
                                    </p>
                                }
                                    .into_any();
                            }
                        };
                        if names.is_empty() {
                            return view! {
                                <p class="muted">"The gateway serves no models yet."</p>
                            }
                                .into_any();
                        }
                        names
                            .into_iter()
                            .map(|name| {
                                let checked = picked.contains(&name);
                                view! {
                                    <label class="check">
                                        <input
                                            type="checkbox"
                                            name="models[]"
                                            value=name.clone()
                                            checked=checked
                                        />
                                        <code>{name}</code>
                                    </label>
                                }
                            })
                            .collect_view()
                            .into_any()
                    })
                }}
            </Suspense>
            {move || errors.field("models").get().map(|e| view! { <p class="field-error">{e}</p> })}
        </fieldset>
    }
}

/// The Limits dialog of one key.
#[component]
pub fn LimitsDialog(
    open: RwSignal<bool>,
    key: KeyRow,
    /// Only tightening is allowed (a Member's own key).
    tighten_only: bool,
    action: ServerAction<SetKeyLimits>,
) -> impl IntoView {
    let errors = FormErrors::new(action, &LIMIT_FIELDS);
    let pending = action.pending();
    // Made for one key: a fresh form. Saved: the dialog closes; the list reloads from the action.
    action.clear();
    Effect::new(move |_| {
        if action.value().get().is_some_and(|r| r.is_ok()) {
            open.set(false);
        }
    });
    let title = format!("Limits of ‘{}’", key.name);
    let ready = RwSignal::new(false);
    let id = key.id.0;
    let current = StoredValue::new(key.limits.clone());
    view! {
        <Modal open title=Signal::derive(move || title.clone())>
            <ActionForm action=action attr:class="form form-tight">
                <FormAlert message=errors.form() />
                <input type="hidden" name="id" value=id.to_string() />
                {tighten_only
                    .then(|| {
                        view! {
                            <p class="muted">
                                "You can lower these limits or narrow the models; an Owner or Admin can raise or remove them."
                            </p>
                        }
                    })}
                <LimitFields current=current.get_value() errors ready />
                <div class="modal-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| open.set(false)>
                        "Cancel"
                    </button>
                    <button
                        type="submit"
                        class="btn btn-primary"
                        disabled=move || pending.get() || !ready.get()
                    >
                        {move || if pending.get() { "Saving…" } else { "Save limits" }}
                    </button>
                </div>
            </ActionForm>
        </Modal>
    }
}

//! Add provider / Edit provider: name, base URL, key and timeout. The key field is write-only:
//! it starts empty, and left empty when editing keeps the key there is. A field the server
//! refuses says why under it, and the dialog keeps what was typed.

use super::api::{AddProvider, EditProvider};
use crate::components::{Field, FormAlert, FormErrors, Modal, saved_closes};
use domain::providers::{DEFAULT_TIMEOUT_SECS, MAX_KEY, MAX_NAME, ProviderRow};
use leptos::prelude::*;

const FIELDS: &[&str] = &["name", "base_url", "api_key", "timeout_secs"];

/// Add provider; `action` is the page's, after which the list reloads.
#[component]
pub fn AddProviderDialog(open: RwSignal<bool>, action: ServerAction<AddProvider>) -> impl IntoView {
    saved_closes(action, open);
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title=Signal::derive(|| "Add a provider".to_owned())>
            <ActionForm action=action attr:class="form form-tight">
                <ProviderFields errors current=None pending=action.pending() open />
            </ActionForm>
        </Modal>
    }
}

/// Edit provider, for the provider a row's Edit button picked.
#[component]
pub fn EditProviderDialog(
    open: RwSignal<bool>,
    provider: RwSignal<Option<ProviderRow>>,
    action: ServerAction<EditProvider>,
) -> impl IntoView {
    saved_closes(action, open);
    let title = Signal::derive(move || {
        provider
            .with(|p| p.as_ref().map(|p| format!("Edit {}", p.name)))
            .unwrap_or_default()
    });
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title>
            {move || {
                provider
                    .get()
                    .map(|p| {
                        view! {
                            <ActionForm action=action attr:class="form form-tight">
                                <input type="hidden" name="id" value=p.id.to_string() />
                                <ProviderFields
                                    errors
                                    current=Some(p)
                                    pending=action.pending()
                                    open
                                />
                            </ActionForm>
                        }
                    })
            }}
        </Modal>
    }
}

#[component]
fn ProviderFields(
    errors: FormErrors,
    current: Option<ProviderRow>,
    pending: Memo<bool>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let editing = current.is_some();
    let (name, base_url, timeout) = match &current {
        Some(p) => (
            p.name.clone(),
            p.base_url.clone(),
            p.timeout_secs.to_string(),
        ),
        None => (
            String::new(),
            String::new(),
            DEFAULT_TIMEOUT_SECS.to_string(),
        ),
    };
    let key_hint = match current.as_ref().and_then(|p| p.key_last4.clone()) {
        Some(_) => {
            "Stored encrypted and never shown again. Leave blank to keep the key that is set (it ends in the characters shown in the list)."
        }
        None => {
            "Sent as a Bearer token to the provider. Stored encrypted and never shown again. Blank: none (e.g. a local vLLM or Ollama)."
        }
    };
    view! {
        <FormAlert message=errors.form() />
        <Field
            label="Name"
            name="name"
            value=name
            required=true
            autofocus=true
            maxlength=MAX_NAME
            hint="What the providers file's models name it by: letters, digits, dashes, dots or underscores."
            error=errors.field("name")
        />
        <Field
            label="Base URL"
            name="base_url"
            kind="url"
            value=base_url
            required=true
            hint="The address its API answers under, e.g. https://api.openai.com/v1 — the gateway appends /chat/completions and /models."
            error=errors.field("base_url")
        />
        <Field
            label=if editing { "New API key" } else { "API key" }
            name="api_key"
            kind="password"
            autocomplete="new-password"
            maxlength=MAX_KEY
            hint=key_hint
            error=errors.field("api_key")
        />
        <Field
            label="Timeout (seconds)"
            name="timeout_secs"
            kind="number"
            value=timeout
            hint="How long to wait to connect, and then for each part of an answer."
            error=errors.field("timeout_secs")
        />
        <div class="modal-actions">
            <button type="button" class="btn btn-ghost" on:click=move |_| open.set(false)>
                "Cancel"
            </button>
            <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                {move || match (pending.get(), editing) {
                    (true, _) => "Saving…",
                    (false, true) => "Save changes",
                    (false, false) => "Add provider",
                }}
            </button>
        </div>
    }
}

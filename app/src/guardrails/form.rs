//! Add guardrail / Edit guardrail: its name, what it checks (the largest prompt, terms, or
//! regular expressions), the models and teams it checks (all, or those ticked), and whether it
//! blocks or only logs. A field the server refuses — an expression that does not compile names
//! its line and character — says why under it, and the dialog keeps what was typed.

use super::api::{AddGuardrail, EditGuardrail};
use crate::components::{
    Field, FormAlert, FormErrors, Modal, ScopeChoice, TeamScope, saved_closes,
};
use domain::guardrails::{Check, Enforcement, GuardrailRow, MAX_NAME, TeamChoice, Test};
use leptos::prelude::*;

const FIELDS: &[&str] = &[
    "name",
    "check",
    "max_bytes",
    "patterns",
    "models",
    "teams",
    "enforcement",
];

/// What a rule may be limited to: the models the gateway offers and the teams there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    pub models: Vec<String>,
    pub teams: Vec<TeamChoice>,
}

/// Add guardrail; `action` is the page's, after which the list reloads.
#[component]
pub fn AddGuardrailDialog(
    open: RwSignal<bool>,
    action: ServerAction<AddGuardrail>,
    choices: Memo<Choices>,
) -> impl IntoView {
    saved_closes(action, open);
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title=Signal::derive(|| "Add a guardrail".to_owned())>
            <ActionForm action=action attr:class="form form-tight">
                <GuardrailFields errors current=None choices pending=action.pending() open />
            </ActionForm>
        </Modal>
    }
}

/// Edit guardrail, for the rule a row's Edit button picked.
#[component]
pub fn EditGuardrailDialog(
    open: RwSignal<bool>,
    rule: RwSignal<Option<GuardrailRow>>,
    action: ServerAction<EditGuardrail>,
    choices: Memo<Choices>,
) -> impl IntoView {
    saved_closes(action, open);
    let title = Signal::derive(move || {
        rule.with(|r| r.as_ref().map(|r| format!("Edit {}", r.name)))
            .unwrap_or_default()
    });
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title>
            {move || {
                rule.get()
                    .map(|r| {
                        view! {
                            <ActionForm action=action attr:class="form form-tight">
                                <input type="hidden" name="id" value=r.id.to_string() />
                                <GuardrailFields
                                    errors
                                    current=Some(r)
                                    choices
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
fn GuardrailFields(
    errors: FormErrors,
    current: Option<GuardrailRow>,
    choices: Memo<Choices>,
    pending: Memo<bool>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let editing = current.is_some();
    let check = RwSignal::new(current.as_ref().map_or(Check::Terms, |r| r.test.check()));
    let name = current.as_ref().map(|r| r.name.clone()).unwrap_or_default();
    let max_bytes = match current.as_ref().map(|r| &r.test) {
        Some(Test::PromptSize { max_bytes }) => max_bytes.to_string(),
        _ => "32000".to_owned(),
    };
    let lines = current.as_ref().map(|r| r.test.lines()).unwrap_or_default();
    let picked_models = current
        .as_ref()
        .map(|r| r.models.clone())
        .unwrap_or_default();
    let picked_teams: Vec<i64> = current
        .as_ref()
        .and_then(|r| r.teams.as_ref())
        .map(|teams| teams.iter().map(|t| t.id).collect())
        .unwrap_or_default();
    let all_models = RwSignal::new(picked_models.is_empty());
    let all_teams = RwSignal::new(current.as_ref().is_none_or(|r| r.teams.is_none()));
    let enforcement = current
        .as_ref()
        .map_or(Enforcement::Block, |r| r.enforcement);
    let by_size = move || check.get() == Check::PromptSize;
    view! {
        <FormAlert message=errors.form() />
        <Field
            label="Name"
            name="name"
            value=name
            required=true
            autofocus=true
            maxlength=MAX_NAME
            hint="Named in the error a blocked client gets, and on this page."
            error=errors.field("name")
        />
        <div class="field" class:field-invalid=move || errors.field("check").get().is_some()>
            <label for="field-check">"Checks"</label>
            <select
                id="field-check"
                name="check"
                class="input"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    if let Some(c) = Check::ALL.into_iter().find(|c| c.as_str() == value) {
                        check.set(c);
                    }
                }
            >
                {Check::ALL
                    .into_iter()
                    .map(|c| {
                        view! {
                            <option value=c.as_str() selected=move || check.get() == c>
                                {c.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            {move || errors.field("check").get().map(|e| view! { <p class="field-error">{e}</p> })}
        </div>
        <div class:hidden=move || !by_size()>
            <Field
                label="Largest prompt (bytes)"
                name="max_bytes"
                value=max_bytes
                hint="Requests whose messages hold more text than this are matched (about 4 bytes a token in English)."
                error=errors.field("max_bytes")
            />
        </div>
        <div
            class="field"
            class:hidden=by_size
            class:field-invalid=move || errors.field("patterns").get().is_some()
        >
            <label for="field-patterns">
                {move || {
                    if check.get() == Check::Pattern {
                        "Regular expressions, one per line"
                    } else {
                        "Terms, one per line"
                    }
                }}
            </label>
            <textarea
                id="field-patterns"
                name="patterns"
                class="input mono"
                rows="4"
                spellcheck="false"
                aria-invalid=move || errors.field("patterns").get().is_some().then_some("true")
                aria-describedby=move || {
                    if errors.field("patterns").get().is_some() {
                        "field-patterns-hint field-patterns-error"
                    } else {
                        "field-patterns-hint"
                    }
                }
            >
                {lines}
            </textarea>
            <p class="field-hint" id="field-patterns-hint">
                {move || {
                    if check.get() == Check::Pattern {
                        "Rust regex syntax, matched against each message's text; add (?i) to ignore case. An expression that does not compile is refused with where it goes wrong."
                    } else {
                        "Matched as whole words in any case, in the text of every message."
                    }
                }}
            </p>
            {move || {
                errors
                    .field("patterns")
                    .get()
                    .map(|e| {
                        view! {
                            <p class="field-error" id="field-patterns-error">
                                {e}
                            </p>
                        }
                    })
            }}
        </div>
        <fieldset
            class="field check-list"
            class:field-invalid=move || errors.field("models").get().is_some()
        >
            <legend>"Models"</legend>
            <ScopeChoice field="model_scope" every="Every model" all=all_models />
            <div class="check-indent" class:hidden=move || all_models.get()>
                {move || {
                    let models = choices.get().models;
                    if models.is_empty() {
                        return view! { <p class="muted">"The gateway serves no models yet."</p> }
                            .into_any();
                    }
                    models
                        .into_iter()
                        .map(|name| {
                            let checked = picked_models.contains(&name);
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
                }}
            </div>
            {move || errors.field("models").get().map(|e| view! { <p class="field-error">{e}</p> })}
        </fieldset>
        <TeamScope
            teams=Signal::derive(move || choices.get().teams)
            picked=picked_teams
            all=all_teams
            error=errors.field("teams")
        />
        <fieldset
            class="field check-list"
            class:field-invalid=move || errors.field("enforcement").get().is_some()
        >
            <legend>"When it matches"</legend>
            <label class="check">
                <input
                    type="radio"
                    name="enforcement"
                    value="block"
                    checked=enforcement == Enforcement::Block
                />
                "Block: refuse with 400 guardrail_blocked, naming this rule"
            </label>
            <label class="check">
                <input
                    type="radio"
                    name="enforcement"
                    value="log"
                    checked=enforcement == Enforcement::Log
                />
                "Log only: let it through and count it"
            </label>
            {move || {
                errors.field("enforcement").get().map(|e| view! { <p class="field-error">{e}</p> })
            }}
        </fieldset>
        <div class="modal-actions">
            <button type="button" class="btn btn-ghost" on:click=move |_| open.set(false)>
                "Cancel"
            </button>
            <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                {move || match (pending.get(), editing) {
                    (true, _) => "Saving…",
                    (false, true) => "Save changes",
                    (false, false) => "Add guardrail",
                }}
            </button>
        </div>
    }
}

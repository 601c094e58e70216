//! Add route / Edit route: the model name clients ask for, its targets in the order tried (a
//! provider, the model name sent to it, prices per million tokens, the output limit, what an
//! image is billed at), and the teams that may use it. Targets can be added (up to five),
//! moved up and removed; a field the server refuses says why under it, and the dialog keeps
//! what was typed.

use super::api::{AddRoute, EditRoute};
use crate::components::{FieldError, FormAlert, FormErrors, Modal, TeamScope, saved_closes};
use domain::guardrails::TeamChoice;
use domain::routes::{MAX_NAME, MAX_TARGETS, ProviderChoice, RouteRow, TargetRow, usd_per_mtok};
use leptos::prelude::*;

/// Every field a route form has, for the errors shown next to them.
const FIELDS: &[&str] = &[
    "name",
    "targets",
    "teams",
    "target1_provider",
    "target1_upstream_name",
    "target1_input_price",
    "target1_output_price",
    "target1_max_output_tokens",
    "target1_image_input_tokens",
    "target2_provider",
    "target2_upstream_name",
    "target2_input_price",
    "target2_output_price",
    "target2_max_output_tokens",
    "target2_image_input_tokens",
    "target3_provider",
    "target3_upstream_name",
    "target3_input_price",
    "target3_output_price",
    "target3_max_output_tokens",
    "target3_image_input_tokens",
    "target4_provider",
    "target4_upstream_name",
    "target4_input_price",
    "target4_output_price",
    "target4_max_output_tokens",
    "target4_image_input_tokens",
    "target5_provider",
    "target5_upstream_name",
    "target5_input_price",
    "target5_output_price",
    "target5_max_output_tokens",
    "target5_image_input_tokens",
];

/// The name of field `field` of target `index` (from 0), as the server names it in errors.
fn target_field(index: usize, field: &str) -> &'static str {
    let wanted = domain::routes::target_field(index, field);
    FIELDS
        .iter()
        .find(|f| **f == wanted)
        .copied()
        .unwrap_or("targets")
}

/// What a route may name: the providers and the teams there are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    pub providers: Vec<ProviderChoice>,
    pub teams: Vec<TeamChoice>,
}

/// Add route; `action` is the page's, after which the list reloads.
#[component]
pub fn AddRouteDialog(
    open: RwSignal<bool>,
    action: ServerAction<AddRoute>,
    choices: Memo<Choices>,
) -> impl IntoView {
    saved_closes(action, open);
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title=Signal::derive(|| "Add a route".to_owned())>
            <ActionForm action=action attr:class="form form-tight">
                <RouteFields errors current=None choices pending=action.pending() open />
            </ActionForm>
        </Modal>
    }
}

/// Edit route, for the route a row's Edit button picked.
#[component]
pub fn EditRouteDialog(
    open: RwSignal<bool>,
    route: RwSignal<Option<RouteRow>>,
    action: ServerAction<EditRoute>,
    choices: Memo<Choices>,
) -> impl IntoView {
    saved_closes(action, open);
    let title = Signal::derive(move || {
        route
            .with(|r| r.as_ref().map(|r| format!("Edit {}", r.name)))
            .unwrap_or_default()
    });
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title>
            {move || {
                route
                    .get()
                    .map(|r| {
                        view! {
                            <ActionForm action=action attr:class="form form-tight">
                                <input type="hidden" name="id" value=r.id.to_string() />
                                <RouteFields
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

/// A target row of the form: a key that stays with it when rows move, and what it starts with.
#[derive(Debug, Clone)]
struct Slot {
    key: usize,
    start: Option<TargetRow>,
}

#[component]
fn RouteFields(
    errors: FormErrors,
    current: Option<RouteRow>,
    choices: Memo<Choices>,
    pending: Memo<bool>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let editing = current.is_some();
    let name = current.as_ref().map(|r| r.name.clone()).unwrap_or_default();
    let starts: Vec<Option<TargetRow>> = match &current {
        Some(r) if !r.targets.is_empty() => r.targets.iter().cloned().map(Some).collect(),
        _ => vec![None],
    };
    let next_key = StoredValue::new(starts.len());
    let slots = RwSignal::new(
        starts
            .into_iter()
            .enumerate()
            .map(|(key, start)| Slot { key, start })
            .collect::<Vec<_>>(),
    );
    let picked_teams: Vec<i64> = current
        .as_ref()
        .and_then(|r| r.teams.as_ref())
        .map(|teams| teams.iter().map(|t| t.id).collect())
        .unwrap_or_default();
    let all_teams = RwSignal::new(current.as_ref().is_none_or(|r| r.teams.is_none()));
    let name_error = errors.field("name");
    let add_target = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        slots.update(|s| {
            if s.len() < MAX_TARGETS {
                s.push(Slot { key, start: None });
            }
        });
    };
    view! {
        <FormAlert message=errors.form() />
        <div class="field" class:field-invalid=move || name_error.get().is_some()>
            <label for="field-name">"Model name clients ask for"</label>
            <input
                id="field-name"
                name="name"
                class="input mono"
                required
                autofocus
                autocomplete="off"
                spellcheck="false"
                maxlength=MAX_NAME
                value=name
                aria-invalid=move || name_error.get().is_some().then_some("true")
                aria-describedby=move || {
                    if name_error.get().is_some() {
                        "field-name-hint field-name-error"
                    } else {
                        "field-name-hint"
                    }
                }
            />
            <p class="field-hint" id="field-name-hint">
                "The model field of a request, such as gpt-4o-mini. Listed by /v1/models."
            </p>
            {move || {
                name_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="field-error" id="field-name-error">
                                {e}
                            </p>
                        }
                    })
            }}
        </div>
        <p class="field-hint">
            "Targets are tried in order: when one cannot be reached, times out, or answers 429 or 5xx, the next is tried. A request is held at the dearest target and charged at the prices of the one that answered."
        </p>
        <For
            each=move || slots.get()
            key=|slot| slot.key
            children=move |slot| {
                let key = slot.key;
                let position = Signal::derive(move || {
                    slots.with(|s| s.iter().position(|x| x.key == key).unwrap_or(0))
                });
                view! { <TargetFields place=slot position slots errors choices /> }
            }
        />
        {move || {
            errors.field("targets").get().map(|e| view! { <p class="field-error">{e}</p> })
        }}
        <button
            type="button"
            class="btn btn-ghost btn-small"
            disabled=move || slots.with(|s| s.len() >= MAX_TARGETS)
            on:click=add_target
        >
            "Add a fallback target"
        </button>
        <TeamScope
            teams=Signal::derive(move || choices.get().teams)
            picked=picked_teams
            all=all_teams
            error=errors.field("teams")
            legend="Teams whose keys may use it"
        />
        <div class="modal-actions">
            <button type="button" class="btn btn-ghost" on:click=move |_| open.set(false)>
                "Cancel"
            </button>
            <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                {move || match (pending.get(), editing) {
                    (true, _) => "Saving…",
                    (false, true) => "Save changes",
                    (false, false) => "Add route",
                }}
            </button>
        </div>
    }
}

/// One target's fields, posted as the `target_*[]` lists in the row's order.
#[component]
fn TargetFields(
    place: Slot,
    position: Signal<usize>,
    slots: RwSignal<Vec<Slot>>,
    errors: FormErrors,
    choices: Memo<Choices>,
) -> impl IntoView {
    let key = place.key;
    let start = place.start;
    let provider_id = start.as_ref().map(|t| t.provider_id);
    let text = |f: fn(&TargetRow) -> String| start.as_ref().map(f).unwrap_or_default();
    let upstream = text(|t| t.upstream_name.clone());
    let input_price = text(|t| usd_per_mtok(t.input_micros_per_mtok));
    let output_price = text(|t| usd_per_mtok(t.output_micros_per_mtok));
    let max_output = start
        .as_ref()
        .map_or_else(|| "4096".to_owned(), |t| t.max_output_tokens.to_string());
    let images = text(|t| {
        t.image_input_tokens
            .map(|n| n.to_string())
            .unwrap_or_default()
    });
    let legend = move || match position.get() {
        0 => "Target 1 (tried first)".to_owned(),
        n => format!("Target {} (fallback)", n + 1),
    };
    let remove = move |_| slots.update(|s| s.retain(|x| x.key != key));
    let move_up = move |_| {
        slots.update(|s| {
            if let Some(i) = s.iter().position(|x| x.key == key)
                && i > 0
            {
                s.swap(i, i - 1);
            }
        });
    };
    let error = move |field: &'static str| {
        Signal::derive(move || errors.field(target_field(position.get(), field)).get())
    };
    let provider_error = error("provider");
    let id = move |field: &str| format!("target{key}-{field}");
    view! {
        <fieldset class="field target-fields">
            <legend>{legend}</legend>
            <div class="target-grid">
                <div class="field" class:field-invalid=move || provider_error.get().is_some()>
                    <label for=id("provider")>"Provider"</label>
                    <select id=id("provider") name="target_provider[]" class="input">
                        <option value="" selected=provider_id.is_none()>
                            "Choose…"
                        </option>
                        {move || {
                            choices
                                .get()
                                .providers
                                .into_iter()
                                .map(|p| {
                                    let chosen = provider_id == Some(p.id);
                                    let label = if p.enabled {
                                        p.name.clone()
                                    } else {
                                        format!("{} (disabled)", p.name)
                                    };
                                    view! {
                                        <option value=p.id.to_string() selected=chosen>
                                            {label}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                    <FieldError error=provider_error />
                </div>
                <TargetInput
                    id=id("upstream_name")
                    label="Model at the provider"
                    name="target_upstream_name[]"
                    value=upstream
                    placeholder="Same as the route"
                    error=error("upstream_name")
                    mono=true
                />
                <TargetInput
                    id=id("input_price")
                    label="Input $ per Mtok"
                    name="target_input_price[]"
                    value=input_price
                    placeholder="0.15"
                    error=error("input_price")
                />
                <TargetInput
                    id=id("output_price")
                    label="Output $ per Mtok"
                    name="target_output_price[]"
                    value=output_price
                    placeholder="0.60"
                    error=error("output_price")
                />
                <TargetInput
                    id=id("max_output_tokens")
                    label="Max output tokens"
                    name="target_max_output_tokens[]"
                    value=max_output
                    placeholder="4096"
                    error=error("max_output_tokens")
                />
                <TargetInput
                    id=id("image_input_tokens")
                    label="Tokens per image (optional)"
                    name="target_image_input_tokens[]"
                    value=images
                    placeholder="None"
                    error=error("image_input_tokens")
                />
            </div>
            <div class="target-actions">
                <button
                    type="button"
                    class="btn btn-ghost btn-small"
                    disabled=move || position.get() == 0
                    on:click=move_up
                >
                    "Move up"
                </button>
                <button
                    type="button"
                    class="btn btn-ghost btn-small"
                    disabled=move || slots.with(|s| s.len() <= 1)
                    on:click=remove
                >
                    "Remove"
                </button>
            </div>
        </fieldset>
    }
}

/// A text field of a target, with its error under it.
#[component]
fn TargetInput(
    id: String,
    label: &'static str,
    name: &'static str,
    value: String,
    placeholder: &'static str,
    error: Signal<Option<String>>,
    #[prop(optional)] mono: bool,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                class="input"
                class:mono=mono
                autocomplete="off"
                spellcheck="false"
                value=value
                placeholder=placeholder
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby={
                    let error_id = error_id.clone();
                    move || error.get().is_some().then(|| error_id.clone())
                }
            />
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="field-error" id=error_id.clone()>
                                {e}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

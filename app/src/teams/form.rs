//! Create team / Edit team: name, description, monthly spend limit, each member's default
//! monthly budget and per-minute limits. The limit is checked as it is typed (a negative number or anything that is not dollars and cents
//! is refused before submit) and again by the server.

use super::api::{CreateTeam, EditTeam};
use crate::components::{Field, FormAlert, FormErrors, Modal, saved_closes};
use domain::money::Money;
use domain::teams::{DESCRIPTION_MAX, TEAM_NAME_MAX, TeamRow};
use leptos::prelude::*;

/// The fields a team form's errors may name.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "limit",
    "member_budget",
    "requests_per_minute",
    "tokens_per_minute",
];

/// The limit field's message while typing: the same parser the server uses.
fn typed_limit_error(text: &str) -> Option<String> {
    Money::parse_usd(text).err().map(|e| e.to_string())
}

/// Create team, its limit proposed from `default_limit` (set by Owners on the Billing page).
/// `action` is the page's: the list reloads when it finishes.
#[component]
pub fn CreateTeamDialog(
    open: RwSignal<bool>,
    action: ServerAction<CreateTeam>,
    #[prop(into)] default_limit: Signal<Option<Money>>,
) -> impl IntoView {
    saved_closes(action, open);
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title=Signal::derive(|| "Create a team".to_owned())>
            <ActionForm action=action attr:class="form form-tight">
                {move || {
                    view! {
                        <TeamFields
                            errors
                            current=None
                            default_limit=default_limit.get()
                            pending=action.pending()
                            open
                        />
                    }
                }}
            </ActionForm>
        </Modal>
    }
}

/// Edit team, for the team a row's Edit button picked. One dialog serves every row and lives
/// with the page (as does `action`, after which the list reloads), so a refusal stays on screen
/// while the rows are rebuilt.
#[component]
pub fn EditTeamDialog(
    open: RwSignal<bool>,
    team: RwSignal<Option<TeamRow>>,
    action: ServerAction<EditTeam>,
) -> impl IntoView {
    saved_closes(action, open);
    let title = Signal::derive(move || {
        team.with(|t| t.as_ref().map(|t| format!("Edit {}", t.name)))
            .unwrap_or_default()
    });
    let errors = FormErrors::new(action, FIELDS);
    view! {
        <Modal open title>
            {move || {
                team.get()
                    .map(|team| {
                        view! {
                            <ActionForm action=action attr:class="form form-tight">
                                <input type="hidden" name="id" value=team.id.to_string() />
                                <TeamFields
                                    errors
                                    current=Some(team)
                                    default_limit=None
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
fn TeamFields(
    errors: FormErrors,
    current: Option<TeamRow>,
    /// The limit proposed to a new team.
    default_limit: Option<Money>,
    pending: Memo<bool>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let typed = RwSignal::new(None::<String>);
    let (name, description, limit) = match &current {
        Some(t) => (
            t.name.clone(),
            t.description.clone(),
            t.limit.map(Money::to_input).unwrap_or_default(),
        ),
        None => (
            String::new(),
            String::new(),
            default_limit.map(Money::to_input).unwrap_or_default(),
        ),
    };
    let member_budget = current
        .as_ref()
        .and_then(|t| t.member_budget)
        .map(Money::to_input)
        .unwrap_or_default();
    let (requests, tokens) = current
        .as_ref()
        .map(|t| t.rates)
        .unwrap_or_default()
        .fields();
    let saving = if current.is_some() {
        "Saving…"
    } else {
        "Creating…"
    };
    let save = if current.is_some() {
        "Save team"
    } else {
        "Create team"
    };
    view! {
        <FormAlert message=errors.form() />
        <Field
            label="Team Name"
            name="name"
            required=true
            autofocus=true
            maxlength=TEAM_NAME_MAX
            value=name
            error=errors.field("name")
        />
        <div class="field" class:field-invalid=move || errors.field("description").get().is_some()>
            <label for="field-description">"Description"</label>
            <textarea
                id="field-description"
                name="description"
                class="input"
                rows="3"
                maxlength=DESCRIPTION_MAX
            >
                {description}
            </textarea>
            {move || {
                errors.field("description").get().map(|e| view! { <p class="field-error">{e}</p> })
            }}
        </div>
        <Field
            label="Monthly Spend Limit (USD)"
            name="limit"
            value=limit
            hint="A hard cap: requests are blocked when the team reaches it. Leave blank for no limit."
            error=errors.field("limit")
            live=typed
            on_input=Callback::new(move |text: String| typed.set(typed_limit_error(&text)))
        />
        <Field
            label="Budget per member (USD a month)"
            name="member_budget"
            value=member_budget
            hint="Each member's own cap within the team; set one person's on the Members list. Blank: none."
            error=errors.field("member_budget")
        />
        <div class="field-pair">
            <Field
                label="Requests per minute"
                name="requests_per_minute"
                value=requests
                hint="Over all the team's keys. Blank: none."
                error=errors.field("requests_per_minute")
            />
            <Field
                label="Tokens per minute"
                name="tokens_per_minute"
                value=tokens
                hint="Over all the team's keys. Blank: none."
                error=errors.field("tokens_per_minute")
            />
        </div>
        <div class="modal-actions">
            <button type="button" class="btn btn-ghost" on:click=move |_| open.set(false)>
                "Cancel"
            </button>
            <button
                type="submit"
                class="btn btn-primary"
                disabled=move || pending.get() || typed.get().is_some()
            >
                {move || if pending.get() { saving } else { save }}
            </button>
        </div>
    }
}

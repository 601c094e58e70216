//! The dialog an Owner or Admin sets a member's own monthly budget in — blank falls back to the
//! team's default.

use super::api::SetMemberBudget;
use crate::components::{Field, FormAlert, FormErrors, Modal};
use domain::TeamId;
use domain::money::Money;
use domain::teams::TeamMember;
use leptos::prelude::*;

/// The Budget dialog of one member.
#[component]
pub fn MemberBudgetDialog(
    open: RwSignal<bool>,
    team: TeamId,
    member: TeamMember,
    action: ServerAction<SetMemberBudget>,
) -> impl IntoView {
    let errors = FormErrors::new(action, &["budget"]);
    let pending = action.pending();
    // Made for one member: a fresh form. Saved: the dialog closes; the list reloads.
    action.clear();
    Effect::new(move |_| {
        if action.value().get().is_some_and(|r| r.is_ok()) {
            open.set(false);
        }
    });
    let title = format!("Budget of {}", member.name);
    let current = StoredValue::new(member.budget.own.map(Money::to_input).unwrap_or_default());
    let hint = StoredValue::new(match member.budget.team_default {
        Some(default) => format!("Blank: the team's default, {default} a month."),
        None => "Blank: no budget (the team has no default).".to_owned(),
    });
    let spent = member.budget.spent;
    let user = member.id.0;
    view! {
        <Modal open title=Signal::derive(move || title.clone())>
            <ActionForm action=action attr:class="form form-tight">
                <FormAlert message=errors.form() />
                <input type="hidden" name="id" value=team.0.to_string() />
                <input type="hidden" name="user" value=user.to_string() />
                <p class="muted">
                    {format!("Spent {spent} this month (UTC). ")}
                    "Their requests are refused once they reach it, whichever key they use."
                </p>
                <Field
                    label="Their monthly budget (USD)"
                    name="budget"
                    value=current.get_value()
                    error=errors.field("budget")
                />
                <p class="field-hint">{hint.get_value()}</p>
                <div class="modal-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| open.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save budget" }}
                    </button>
                </div>
            </ActionForm>
        </Modal>
    }
}

//! The gateway-wide settings form: three limits, the addresses and the webhook alerts go to,
//! the webhook's signing key, and a test-send. A plain form (it posts without JavaScript); a
//! field that cannot be used says why under it, and the form keeps what was typed.

use super::api::{RotateWebhookKey, SaveBilling, TestAlerts};
use crate::components::{ConfirmButton, CopyField, Field, FormAlert, FormErrors};
use domain::billing::{MAX_EMAILS, Settings, TestSent};
use leptos::prelude::*;

const FIELDS: &[&str] = &[
    "gateway_limit",
    "team_default_limit",
    "teamless_limit",
    "alert_emails",
    "webhook_url",
];

#[component]
pub fn SettingsForm(
    settings: Settings,
    secret: Option<String>,
    mail_configured: bool,
    save: ServerAction<SaveBilling>,
    rotate: ServerAction<RotateWebhookKey>,
) -> impl IntoView {
    let errors = FormErrors::new(save, FIELDS);
    let input = settings.to_input();
    let emails_error = errors.field("alert_emails");
    let has_recipients = !settings.alert_emails.is_empty() || settings.webhook_url.is_some();
    view! {
        <section class="panel" aria-labelledby="settings-title">
            <h2 id="settings-title" class="panel-title">
                "Gateway-wide settings"
            </h2>
            <ActionForm action=save attr:class="form settings-form">
                <FormAlert message=errors.form() />
                <fieldset class="fieldset">
                    <legend>"Limits"</legend>
                    <Field
                        label="Monthly limit for the whole gateway (USD)"
                        name="gateway_limit"
                        value=input.gateway_limit
                        hint="A hard cap over all teams: once the gateway's spend this month reaches it, every request is refused with 402 until the 1st (UTC). With it, every request is held at its worst case, as in a team with a limit. Blank: none."
                        error=errors.field("gateway_limit")
                    />
                    <Field
                        label="Default limit for new teams (USD a month)"
                        name="team_default_limit"
                        value=input.team_default_limit
                        hint="Proposed in the Create team form; teams already made keep theirs. Blank: none."
                        error=errors.field("team_default_limit")
                    />
                    <Field
                        label="Monthly cap for keys outside any team (USD)"
                        name="teamless_limit"
                        value=input.teamless_limit
                        hint="What keys that belong to no team may spend together in a month. Blank: none."
                        error=errors.field("teamless_limit")
                    />
                </fieldset>
                <fieldset class="fieldset">
                    <legend>"Budget alerts"</legend>
                    <p class="field-hint">
                        "When a team crosses 70 %, 90 % and 100 % of its monthly limit, these are told — once per band and month."
                    </p>
                    <div class="field" class:field-invalid=move || emails_error.get().is_some()>
                        <label for="field-alert_emails">"Email addresses"</label>
                        <textarea
                            id="field-alert_emails"
                            name="alert_emails"
                            class="input"
                            rows="3"
                            aria-describedby="field-alert_emails-hint"
                            aria-invalid=move || emails_error.get().is_some().then_some("true")
                        >
                            {input.alert_emails}
                        </textarea>
                        <p class="field-hint" id="field-alert_emails-hint">
                            {format!("One per line, at most {MAX_EMAILS}. ")}
                            {if mail_configured {
                                "Sent through the mail server in TOLLGATE_SMTP_URL."
                            } else {
                                "No mail server is configured (TOLLGATE_SMTP_URL), so emails cannot be sent yet."
                            }}
                        </p>
                        {move || {
                            emails_error
                                .get()
                                .map(|e| {
                                    view! {
                                        <p class="field-error" id="field-alert_emails-error">
                                            {e}
                                        </p>
                                    }
                                })
                        }}
                    </div>
                    <Field
                        label="Webhook URL"
                        name="webhook_url"
                        kind="url"
                        value=input.webhook_url
                        hint="Receives each alert as JSON, signed with HMAC-SHA256 in the Tollgate-Signature header. Blank: none."
                        error=errors.field("webhook_url")
                    />
                </fieldset>
                <div class="form-actions">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        disabled=move || save.pending().get()
                    >
                        {move || if save.pending().get() { "Saving…" } else { "Save settings" }}
                    </button>
                </div>
            </ActionForm>
            {secret.map(|secret| view! { <SigningKey secret rotate /> })}
            <TestSend has_recipients />
        </section>
    }
}

/// The webhook's signing key, to give the receiver, and a way to replace it.
#[component]
fn SigningKey(secret: String, rotate: ServerAction<RotateWebhookKey>) -> impl IntoView {
    view! {
        <div class="field signing-key">
            <p class="field-label">"Webhook signing key"</p>
            <CopyField value=secret label="Webhook signing key" />
            <p class="field-hint">
                "Your receiver checks " <code>"v1"</code> " = HMAC-SHA256 of " <code>"t.body"</code>
                " with this key (see the README)."
            </p>
            <ConfirmButton
                label="Replace key"
                class="btn btn-ghost"
                disabled=move || rotate.pending().get()
                title="Replace the webhook signing key?"
                detail="Alerts are signed with the new key at once; the receiver rejects them until it is given the new key."
                confirm_label="Replace key"
                on_confirm=Callback::new(move |()| {
                    rotate.dispatch(RotateWebhookKey {});
                })
            />
        </div>
    }
}

/// Sends a sample alert to the saved recipients and says what each channel answered.
#[component]
fn TestSend(has_recipients: bool) -> impl IntoView {
    let test = ServerAction::<TestAlerts>::new();
    let outcome = move || {
        test.value().get().map(|answer| match answer {
            Ok(sent) => outcome_view(sent).into_any(),
            Err(e) => view! {
                <div class="alert alert-error" role="alert">
                    {e.to_string()}
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <ActionForm action=test attr:class="test-send">
            <button
                type="submit"
                class="btn btn-ghost"
                disabled=move || !has_recipients || test.pending().get()
            >
                {move || if test.pending().get() { "Sending…" } else { "Send a test alert" }}
            </button>
            {(!has_recipients)
                .then(|| {
                    view! { <span class="field-hint">"Save an address or a webhook first."</span> }
                })}
        </ActionForm>
        <div class="test-outcome" aria-live="polite">
            {outcome}
        </div>
    }
}

fn outcome_view(sent: TestSent) -> impl IntoView {
    let line = |channel: &'static str, result: Option<Result<(), String>>| {
        result.map(|r| {
            let (class, text) = match r {
                Ok(()) => ("alert alert-success", format!("{channel}: sent.")),
                Err(why) => ("alert alert-error", format!("{channel}: not sent — {why}.")),
            };
            view! {
                <div class=class role="status">
                    {text}
                </div>
            }
        })
    };
    view! {
        {line("Email", sent.mail)}
        {line("Webhook", sent.webhook)}
    }
}

//! The single sign-on page (Owners): what to register at the identity provider, the settings
//! form (a plain form that posts without JavaScript; a field that cannot be used says why under
//! it), a Test button that runs discovery, and turning single sign-on off.

use super::api::{SaveSso, TestSso, TurnOffSso, read_sso};
use crate::components::{
    ConfirmButton, CopyField, Field, FieldError, FormAlert, FormErrors, Loaded, PageHeader,
    TextAreaField, exact, use_toasts,
};
use domain::sso::{Discovery, LABEL_MAX, NewPeople, SsoInput, SsoSettings, SsoView};
use leptos::html;
use leptos::prelude::*;

const FIELDS: &[&str] = &[
    "issuer",
    "client_id",
    "client_secret",
    "label",
    "allowed_domains",
    "new_people",
    "new_people_team",
    "groups_claim",
    "group_roles",
    "password_sign_in",
];

#[component]
pub fn SsoPage() -> impl IntoView {
    let save = ServerAction::<SaveSso>::new();
    let off = ServerAction::<TurnOffSso>::new();
    Effect::new(move |_| {
        if save.value().get().is_some_and(|r| r.is_ok())
            && let Some(toasts) = use_toasts()
        {
            toasts.success("Single sign-on settings saved.");
        }
    });
    Effect::new(move |_| {
        if let Some(toasts) = use_toasts() {
            match off.value().get() {
                Some(Ok(())) => toasts.success("Single sign-on is off; passwords sign in."),
                Some(Err(e)) => toasts.error(e.to_string()),
                None => {}
            }
        }
    });
    // Reloaded after a save that worked (a refused one leaves the form as typed, its errors
    // beside the fields) and after turning single sign-on off.
    let saved = Memo::new(
        move |before: Option<&Option<usize>>| match save.value().get() {
            Some(Ok(_)) => Some(save.version().get_untracked()),
            _ => before.copied().flatten(),
        },
    );
    let view = Resource::new(move || (saved.get(), off.version().get()), |_| read_sso());
    view! {
        <PageHeader
            title="Single sign-on"
            lead="Let people sign in with your organisation's identity provider (OpenID Connect: Okta, Microsoft Entra ID, Google Workspace, Keycloak, Authentik, Dex). Only Owners see this page."
        />
        <Loaded
            resource=view
            loading="Loading single sign-on…"
            show=move |v| view! { <Sso view=v save off /> }.into_any()
        />
    }
}

#[component]
fn Sso(view: SsoView, save: ServerAction<SaveSso>, off: ServerAction<TurnOffSso>) -> impl IntoView {
    let on = view.settings.is_some();
    let status = match (&view.settings, view.from_env) {
        (None, _) => "People sign in with email and password.".to_owned(),
        (Some(s), true) => format!(
            "Set by the environment (TOLLGATE_SSO_*): the sign-in page offers “Sign in with {}”.",
            s.label
        ),
        (Some(s), false) => format!("The sign-in page offers “Sign in with {}”.", s.label),
    };
    view! {
        <section class="panel" aria-labelledby="sso-provider-title">
            <h2 id="sso-provider-title" class="panel-title">
                "At your identity provider"
            </h2>
            <p class="muted">
                "Register Tollgate as a web application (confidential client, authorization code flow) with this redirect URI, and allow the scopes "
                <code>"openid email profile"</code> "."
            </p>
            <div class="field">
                <p class="field-label">"Redirect URI"</p>
                <CopyField value=view.redirect_uri.clone() label="Redirect URI" />
            </div>
            <p class="sso-status" role="status">
                <span class=if on {
                    "status status-active"
                } else {
                    "status status-invited"
                }>{if on { "On" } else { "Off" }}</span>
                " "
                {status}
                {view
                    .updated_at
                    .map(|at| {
                        view! {
                            <span class="cell-sub">{format!(" Last changed {}.", exact(at))}</span>
                        }
                    })}
            </p>
        </section>
        <SettingsForm view=view.clone() save />
        {(on && !view.from_env).then(|| view! { <TurnOff off /> })}
    }
}

#[component]
fn SettingsForm(view: SsoView, save: ServerAction<SaveSso>) -> impl IntoView {
    let errors = FormErrors::new(save, FIELDS);
    let input = view
        .settings
        .as_ref()
        .map_or_else(SsoInput::blank, SsoSettings::to_input);
    let issuer_ref = NodeRef::<html::Input>::new();
    let test = ServerAction::<TestSso>::new();
    let secret_hint = if view.has_secret {
        "Stored encrypted and never shown again. Leave blank to keep it; type a new one to replace it."
    } else {
        "From the provider's client (application) settings. Leave blank for a public client that relies on PKCE alone."
    };
    let password_hint = if view.signed_in_with_it || !input.password_sign_in {
        "Untick to let people in only through single sign-on. The password form disappears and password sign-ins are refused."
    } else {
        "To turn passwords off, first sign in with single sign-on yourself (sign out, then use the button), so nobody is locked out."
    };
    let new_people = input.new_people.clone();
    let team = input.new_people_team.clone();
    view! {
        <section class="panel" aria-labelledby="sso-settings-title">
            <h2 id="sso-settings-title" class="panel-title">
                "Settings"
            </h2>
            {view
                .from_env
                .then(|| {
                    view! {
                        <p class="alert alert-info" role="note">
                            "These settings come from the environment (TOLLGATE_SSO_* variables) and are read-only here: change them where Tollgate is deployed."
                        </p>
                    }
                })}
            <ActionForm action=save attr:class="form settings-form">
                <FormAlert message=errors.form() />
                <fieldset class="fieldset" disabled=view.from_env>
                    <legend>"Identity provider"</legend>
                    <div
                        class="field"
                        class:field-invalid=move || errors.field("issuer").get().is_some()
                    >
                        <label for="field-issuer">"Issuer URL"</label>
                        <div class="input-row">
                            <input
                                id="field-issuer"
                                name="issuer"
                                type="url"
                                class="input"
                                required
                                node_ref=issuer_ref
                                value=input.issuer
                                placeholder="https://login.example.com/realms/main"
                                aria-describedby="field-issuer-hint"
                                aria-invalid=move || {
                                    errors.field("issuer").get().is_some().then_some("true")
                                }
                            />
                            <TestButton issuer=issuer_ref test />
                        </div>
                        <TestOutcome test />
                        <p class="field-hint" id="field-issuer-hint">
                            "Tollgate reads /.well-known/openid-configuration under it. https://, or http:// for a provider on this machine."
                        </p>
                        <FieldError error=errors.field("issuer") id="field-issuer-error" />
                    </div>
                    <Field
                        label="Client id"
                        name="client_id"
                        value=input.client_id
                        required=true
                        error=errors.field("client_id")
                    />
                    <Field
                        label="Client secret"
                        name="client_secret"
                        kind="password"
                        autocomplete="new-password"
                        hint=secret_hint
                        error=errors.field("client_secret")
                    />
                    <Field
                        label="Button label"
                        name="label"
                        value=input.label
                        required=true
                        maxlength=LABEL_MAX
                        hint="The sign-in page reads “Sign in with” and this, e.g. Okta."
                        error=errors.field("label")
                    />
                </fieldset>
                <fieldset class="fieldset" disabled=view.from_env>
                    <legend>"Who may sign in"</legend>
                    <TextAreaField
                        label="Allowed email domains"
                        name="allowed_domains"
                        value=input.allowed_domains
                        hint="One per line, e.g. example.com. Only addresses at these domains may sign in this way. Blank: any domain the provider vouches for."
                        error=errors.field("allowed_domains")
                    />
                    <div
                        class="field"
                        class:field-invalid=move || errors.field("new_people").get().is_some()
                    >
                        <label for="field-new_people">"Someone nobody invited"</label>
                        <select id="field-new_people" name="new_people" class="input">
                            {NewPeople::ALL
                                .into_iter()
                                .map(|n| {
                                    view! {
                                        <option value=n.as_str() selected=n.as_str() == new_people>
                                            {n.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <p class="field-hint">
                            "Someone who was invited lands with the role and team of their invite, whatever this says."
                        </p>
                        <FieldError error=errors.field("new_people") id="field-new_people-error" />
                    </div>
                    <div
                        class="field"
                        class:field-invalid=move || errors.field("new_people_team").get().is_some()
                    >
                        <label for="field-new_people_team">"Team for new people"</label>
                        <select id="field-new_people_team" name="new_people_team" class="input">
                            <option value="">"No team"</option>
                            {view
                                .teams
                                .iter()
                                .map(|t| {
                                    let id = t.id.to_string();
                                    view! {
                                        <option value=id.clone() selected=id == team>
                                            {t.name.clone()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <FieldError
                            error=errors.field("new_people_team")
                            id="field-new_people_team-error"
                        />
                    </div>
                </fieldset>
                <fieldset class="fieldset" disabled=view.from_env>
                    <legend>"Roles from groups"</legend>
                    <Field
                        label="Groups claim"
                        name="groups_claim"
                        value=input.groups_claim
                        hint="The ID token claim that lists a person's groups, e.g. groups. Blank: groups are not read."
                        error=errors.field("groups_claim")
                    />
                    <TextAreaField
                        label="Group → role"
                        name="group_roles"
                        value=input.group_roles
                        hint="One per line as group = Role (Admin, Member or Viewer), e.g. gateway-admins = Admin. Applied at every sign-in; the highest wins. Owner is never given by a claim, and an Owner's role is never changed by one."
                        error=errors.field("group_roles")
                    />
                </fieldset>
                <fieldset class="fieldset" disabled=view.from_env>
                    <legend>"Passwords"</legend>
                    <div
                        class="field"
                        class:field-invalid=move || errors.field("password_sign_in").get().is_some()
                    >
                        <label class="check">
                            <input
                                type="checkbox"
                                name="password_sign_in"
                                value="on"
                                checked=input.password_sign_in
                                aria-describedby="field-password_sign_in-hint"
                            />
                            "Email and password sign-in allowed"
                        </label>
                        <p class="field-hint" id="field-password_sign_in-hint">
                            {password_hint}
                        </p>
                        <FieldError
                            error=errors.field("password_sign_in")
                            id="field-password_sign_in-error"
                        />
                    </div>
                </fieldset>
                {(!view.from_env)
                    .then(|| {
                        view! {
                            <div class="form-actions">
                                <button
                                    type="submit"
                                    class="btn btn-primary"
                                    disabled=move || save.pending().get()
                                >
                                    {move || {
                                        if save.pending().get() {
                                            "Saving…"
                                        } else {
                                            "Save settings"
                                        }
                                    }}
                                </button>
                            </div>
                        }
                    })}
            </ActionForm>
        </section>
    }
}

/// Runs discovery at the issuer as typed.
#[component]
fn TestButton(issuer: NodeRef<html::Input>, test: ServerAction<TestSso>) -> impl IntoView {
    view! {
        <button
            type="button"
            class="btn btn-ghost"
            disabled=move || test.pending().get()
            on:click=move |_| {
                if let Some(input) = issuer.get() {
                    test.dispatch(TestSso { issuer: input.value() });
                }
            }
        >
            {move || if test.pending().get() { "Testing…" } else { "Test" }}
        </button>
    }
}

/// What the last test found, or why it failed.
#[component]
fn TestOutcome(test: ServerAction<TestSso>) -> impl IntoView {
    let outcome = move || {
        test.value().get().map(|answer| match answer {
            Ok(Ok(found)) => found_view(found).into_any(),
            Ok(Err(why)) => view! {
                <div class="alert alert-error" role="alert">
                    {format!("Discovery failed: {why}")}
                </div>
            }
            .into_any(),
            Err(e) => view! {
                <div class="alert alert-error" role="alert">
                    {e.to_string()}
                </div>
            }
            .into_any(),
        })
    };
    view! {
        <div class="test-outcome sso-test" aria-live="polite">
            {outcome}
        </div>
    }
}

fn found_view(found: Discovery) -> impl IntoView {
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "not listed".to_owned()
        } else {
            items.join(", ")
        }
    };
    view! {
        <div class="alert alert-success" role="status">
            <p>
                <strong>"Discovery works."</strong>
                {format!(" {} signing key(s) published.", found.keys)}
            </p>
            <dl class="facts">
                <dt>"Issuer"</dt>
                <dd>
                    <code>{found.issuer}</code>
                </dd>
                <dt>"Authorization endpoint"</dt>
                <dd>
                    <code>{found.authorization_endpoint}</code>
                </dd>
                <dt>"Token endpoint"</dt>
                <dd>
                    <code>{found.token_endpoint.unwrap_or_else(|| "none".to_owned())}</code>
                </dd>
                <dt>"Signing algorithms"</dt>
                <dd>{list(found.signing_algorithms)}</dd>
                <dt>"Scopes"</dt>
                <dd>{list(found.scopes)}</dd>
                <dt>"Claims"</dt>
                <dd>{list(found.claims)}</dd>
            </dl>
        </div>
    }
}

/// Turns single sign-on off, after a confirmation.
#[component]
fn TurnOff(off: ServerAction<TurnOffSso>) -> impl IntoView {
    view! {
        <section class="danger-zone" aria-labelledby="sso-off-title">
            <div>
                <h2 id="sso-off-title">"Turn single sign-on off"</h2>
                <p class="muted">
                    "The button leaves the sign-in page and passwords sign in again. Accounts keep their link to the provider, so turning it back on lets them in as before."
                </p>
            </div>
            <ConfirmButton
                label="Turn off single sign-on…"
                class="btn btn-danger"
                disabled=move || off.pending().get()
                title="Turn off single sign-on?"
                detail="People who have no password (those single sign-on created) cannot sign in until it is turned on again or an Admin re-invites them."
                confirm_label="Turn off"
                on_confirm=Callback::new(move |()| {
                    off.dispatch(TurnOffSso {});
                })
            />
        </section>
    }
}

//! `/invite/{token}`: who invited you and as what; choose a display name and a password — or,
//! with single sign-on on, sign in with it as the invited email.

use super::api::{AcceptInvite, invite_details};
use crate::components::{Brand, Field, FormAlert, FormErrors};
use domain::validation::{NAME_MAX, PASSWORD_MIN};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The invite acceptance page.
#[component]
pub fn AcceptInvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let info = Resource::new(token, invite_details);
    let options = Resource::new(|| (), |()| crate::sso::api::read_sign_in_options());
    view! {
        <Title text="Accept your invite" />
        <main class="auth-page">
            <div class="auth-card">
                <Brand />
                <Suspense fallback=|| {
                    view! {
                        <p class="muted" aria-busy="true">
                            "Checking your invite…"
                        </p>
                    }
                }>
                    {move || Suspend::new(async move {
                        let options = options.await.unwrap_or_default();
                        match info.await {
                            Ok(i) => {
                                let sso = options
                                    .sso_label
                                    .map(|label| {
                                        view! {
                                            <a
                                                class="btn btn-primary btn-block sso-button"
                                                href=domain::sso::START_PATH
                                                rel="external"
                                            >
                                                {format!("Sign in with {label}")}
                                            </a>
                                            <p class="field-hint">
                                                {format!(
                                                    "Use {} there: your invite is accepted as you sign in.",
                                                    i.email,
                                                )}
                                            </p>
                                        }
                                    });
                                let form = options
                                    .password
                                    .then(|| {
                                        view! { <AcceptForm token=token() /> }
                                    });
                                view! {
                                    <h1>"Join this gateway"</h1>
                                    <p class="muted">
                                        {match i.invited_by {
                                            Some(by) => format!("{by} invited you"),
                                            None => "You are invited".to_owned(),
                                        }} {format!(" as {} ({}).", i.role.label(), i.email)}
                                    </p>
                                    {sso}
                                    {form}
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <h1>"This invite cannot be used"</h1>
                                    <p class="muted">{e.to_string()}</p>
                                    <a class="btn btn-primary btn-block" href="/login">
                                        "Go to sign in"
                                    </a>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

#[component]
fn AcceptForm(token: String) -> impl IntoView {
    let action = ServerAction::<AcceptInvite>::new();
    let errors = FormErrors::new(action, &["name", "password"]);
    let field = move |name| errors.field(name);
    let form_error = errors.form();
    let pending = action.pending();
    view! {
        <ActionForm action=action attr:class="form">
            <FormAlert message=form_error />
            <input type="hidden" name="token" value=token />
            <Field
                label="Your name"
                name="name"
                autocomplete="name"
                required=true
                autofocus=true
                maxlength=NAME_MAX
                error=field("name")
            />
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="new-password"
                required=true
                minlength=PASSWORD_MIN
                hint="At least 12 characters."
                error=field("password")
            />
            <button type="submit" class="btn btn-primary btn-block" disabled=move || pending.get()>
                {move || if pending.get() { "Joining…" } else { "Accept invite" }}
            </button>
        </ActionForm>
    }
}

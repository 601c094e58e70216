//! `/login`: "Sign in with {label}" when single sign-on is on, and email and password unless
//! an Owner turned passwords off. A single sign-on that did not sign someone in comes back here
//! with its reason's code. Works with JavaScript off (a link and a plain form post).

use crate::auth::api::SignIn;
use crate::components::{Brand, Field, FormAlert};
use crate::sso::api::read_sign_in_options;
use crate::url::encode_component;
use domain::sso::{REFUSAL_PARAM, Refusal, START_PATH, SignInOptions};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let options = Resource::new(|| (), |()| read_sign_in_options());
    let refusal = move || {
        query
            .read()
            .get(REFUSAL_PARAM)
            .map(|code| Refusal::from_code(&code).message())
    };
    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <div class="auth-card">
                <Brand />
                <h1>"Sign in"</h1>
                <p class="muted">"Operate your gateway's users, teams and keys."</p>
                {move || {
                    refusal()
                        .map(|m| {
                            view! {
                                <div class="alert alert-error" role="alert">
                                    {m}
                                </div>
                            }
                        })
                }}
                <Suspense fallback=|| {
                    view! { <p class="muted">"Loading…"</p> }
                }>
                    {move || Suspend::new(async move {
                        let options = options.await.unwrap_or_default();
                        view! { <SignInChoices options /> }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

/// The single sign-on button, the password form, or both.
#[component]
fn SignInChoices(options: SignInOptions) -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next");
    let sso_href = move || match next() {
        Some(n) => format!("{START_PATH}?next={}", encode_component(&n)),
        None => START_PATH.to_owned(),
    };
    let both = options.sso_label.is_some() && options.password;
    view! {
        {options
            .sso_label
            .map(|label| {
                view! {
                    <a class="btn btn-primary btn-block sso-button" href=sso_href rel="external">
                        {format!("Sign in with {label}")}
                    </a>
                }
            })}
        {both
            .then(|| {
                view! {
                    <p class="divider" role="separator">
                        <span>"or with your password"</span>
                    </p>
                }
            })}
        {options.password.then(|| view! { <PasswordForm /> })}
    }
}

/// Email and password.
#[component]
fn PasswordForm() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next");
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    });
    let no_field_error = Signal::derive(|| None);
    let pending = action.pending();
    view! {
        <ActionForm action=action attr:class="form" attr:novalidate=false>
            <FormAlert message=error />
            {move || next().map(|n| view! { <input type="hidden" name="next" value=n /> })}
            <Field
                label="Email"
                name="email"
                kind="email"
                autocomplete="username"
                required=true
                autofocus=true
                error=no_field_error
            />
            <Field
                label="Password"
                name="password"
                kind="password"
                autocomplete="current-password"
                required=true
                error=no_field_error
            />
            <button type="submit" class="btn btn-primary btn-block" disabled=move || pending.get()>
                {move || if pending.get() { "Signing in…" } else { "Sign in" }}
            </button>
        </ActionForm>
    }
}

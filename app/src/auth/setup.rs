//! `/setup?token=…`: creates the first Owner from the one-time link printed at first start.

use crate::auth::api::{CompleteSetup, setup_open};
use crate::components::{Brand, Field, FormAlert, FormErrors};
use domain::validation::{NAME_MAX, PASSWORD_MIN};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The first-start page; once an Owner exists every link to it says it is no longer valid.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let open = Resource::new_blocking(token, |t| async move {
        if t.is_empty() {
            Ok(false)
        } else {
            setup_open(t).await
        }
    });

    view! {
        <Title text="Set up Tollgate" />
        <main class="auth-page">
            <div class="auth-card">
                <Brand />
                <Suspense fallback=|| {
                    view! {
                        <p class="muted" aria-busy="true">
                            "Checking your setup link…"
                        </p>
                    }
                }>
                    {move || Suspend::new(async move {
                        match open.await {
                            Ok(true) => view! { <SetupForm token=token() /> }.into_any(),
                            Ok(false) => view! { <SetupClosed /> }.into_any(),
                            Err(e) => {
                                view! {
                                    <div class="alert alert-error" role="alert">
                                        {e.to_string()}
                                    </div>
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
fn SetupForm(token: String) -> impl IntoView {
    let action = ServerAction::<CompleteSetup>::new();
    let errors = FormErrors::new(action, &["name", "email", "password"]);
    let field = move |name| errors.field(name);
    let form_error = errors.form();
    let pending = action.pending();
    view! {
        <h1>"Create the Owner account"</h1>
        <p class="muted">
            "You are setting up this gateway. The first account is its Owner: it can do everything, including assigning roles."
        </p>
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
                label="Email"
                name="email"
                kind="email"
                autocomplete="username"
                required=true
                error=field("email")
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
                {move || if pending.get() { "Creating account…" } else { "Create Owner account" }}
            </button>
        </ActionForm>
    }
}

#[component]
fn SetupClosed() -> impl IntoView {
    view! {
        <h1>"This setup link is no longer valid"</h1>
        <p class="muted">
            "Setup is done, or this link was replaced by a newer one. If you already have an account, sign in. "
            "If nobody does yet, restart Tollgate and use the new link it prints."
        </p>
        <a class="btn btn-primary btn-block" href="/login">
            "Go to sign in"
        </a>
    }
}

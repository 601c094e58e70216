//! `/login`: email and password. Works with JavaScript off (a plain form post).

use crate::auth::api::SignIn;
use crate::components::{Brand, Field, FormAlert};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
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
        <Title text="Sign in" />
        <main class="auth-page">
            <div class="auth-card">
                <Brand />
                <h1>"Sign in"</h1>
                <p class="muted">"Operate your gateway's users, teams and keys."</p>
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
                    <button
                        type="submit"
                        class="btn btn-primary btn-block"
                        disabled=move || pending.get()
                    >
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

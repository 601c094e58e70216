//! Server functions for single sign-on. Bodies are thin: who is asking (`request::signed_in`,
//! or nobody for what the sign-in page offers) → `domain` service.

// `save_sso` takes the form's ten fields, one argument each (a form posts them flat, with and
// without JavaScript); the lint cannot be allowed on the functions the `server` macro writes.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use domain::sso::{Discovery, SignInOptions, SsoSettings, SsoView};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {crate::request, domain::service::sso, domain::sso::SsoInput};

/// The single sign-on page (Owners only).
#[server(endpoint = "read_sso")]
pub async fn read_sso() -> Result<SsoView, AppError> {
    request::signed_in(async |ctx, me| sso::view(&ctx.db, &me.actor(), &ctx.public_url).await).await
}

/// Saves the settings as typed; a blank secret keeps the stored one.
#[server(endpoint = "save_sso")]
pub async fn save_sso(
    issuer: String,
    client_id: String,
    #[server(default)] client_secret: String,
    label: String,
    #[server(default)] allowed_domains: String,
    new_people: String,
    #[server(default)] new_people_team: String,
    #[server(default)] groups_claim: String,
    #[server(default)] group_roles: String,
    /// A checkbox: present when ticked.
    #[server(default)]
    password_sign_in: Option<String>,
) -> Result<SsoSettings, AppError> {
    let input = SsoInput {
        issuer,
        client_id,
        client_secret,
        label,
        allowed_domains,
        new_people,
        new_people_team,
        groups_claim,
        group_roles,
        password_sign_in: password_sign_in.is_some(),
    };
    request::signed_in(async |ctx, me| sso::save(&ctx.db, &me.actor(), &input, &ctx.sealer).await)
        .await
}

/// Turns single sign-on off.
#[server(endpoint = "turn_off_sso")]
pub async fn turn_off_sso() -> Result<(), AppError> {
    request::signed_in(async |ctx, me| sso::turn_off(&ctx.db, &me.actor()).await).await
}

/// Runs discovery at `issuer` and says what it found (Owners only).
#[server(endpoint = "test_sso")]
pub async fn test_sso(issuer: String) -> Result<Result<Discovery, String>, AppError> {
    request::signed_in(async |ctx, me| {
        let issuer = sso::issuer_to_test(&me.actor(), &issuer)?;
        Ok(ctx.sso_tester.test(&issuer).await)
    })
    .await
}

/// What the sign-in page offers: the single sign-on button, the password form, or both.
#[server(endpoint = "read_sign_in_options")]
pub async fn read_sign_in_options() -> Result<SignInOptions, AppError> {
    request::with_ctx(async |ctx| sso::sign_in_options(&ctx.db).await).await
}

//! Server functions for sessions and setup. Bodies are thin: request (`request::with_ctx`, or
//! `request::signed_in` for who is signed in) → `domain` service.

use crate::error::AppError;
use domain::dto::SessionUser;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::request,
    domain::secret::Secret,
    domain::service::{session, setup, sign_in as signing},
};

/// Who is signed in; 401 without a live session.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<SessionUser, AppError> {
    request::signed_in(async |_, me| Ok(me)).await
}

/// Signs in with email and password and goes to `next` if it is a path on this site, else to
/// the dashboard.
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    request::with_ctx(async |ctx| {
        let password = Secret::new(password);
        let client = request::client_addr();
        let signed_in = signing::sign_in(&ctx.db, &email, &password, &client, ctx.sessions).await?;
        if let Some(old) = request::session_token() {
            session::end(&ctx.db, &old).await?;
        }
        request::set_session_cookie(&signed_in.token, &ctx);
        leptos_axum::redirect(&request::safe_next(next.as_deref(), &ctx.public_url));
        Ok(())
    })
    .await
}

/// Ends this browser's session and goes to the sign-in page.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    request::with_ctx(async |ctx| {
        if let Some(token) = request::session_token() {
            session::end(&ctx.db, &token).await?;
        }
        request::clear_session_cookie(&ctx);
        request::clear_cached_pages();
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

/// Whether this setup link still opens the setup page.
#[server(endpoint = "setup_open")]
pub async fn setup_open(token: String) -> Result<bool, AppError> {
    request::with_ctx(async |ctx| setup::is_open(&ctx.db, &Secret::new(token)).await).await
}

/// Creates the first Owner, signs them in and goes to the dashboard.
#[server(endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    let owner = setup::FirstOwner {
        name,
        email,
        password: Secret::new(password),
    };
    request::with_ctx(async |ctx| {
        let user = setup::complete(&ctx.db, &Secret::new(token), owner).await?;
        let token = session::start(&ctx.db, user.id, ctx.sessions).await?;
        request::set_session_cookie(&token, &ctx);
        leptos_axum::redirect("/dashboard");
        Ok(())
    })
    .await
}

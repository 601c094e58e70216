//! Server functions for sessions and setup. Bodies are thin: request → domain → answer.

use crate::error::AppError;
use domain::dto::SessionUser;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::request::{self, answer},
    domain::secret::Secret,
    domain::service::{session, setup, sign_in as signing},
};

/// Who is signed in; 401 without a live session.
#[server(prefix = "/api", endpoint = "current_user")]
pub async fn current_user() -> Result<SessionUser, AppError> {
    answer(request::current_user().await)
}

/// Signs in with email and password and goes to `next` if it is a path on this site, else to
/// the dashboard.
#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let password = Secret::new(password);
            let signed_in = signing::sign_in(
                &ctx.db,
                &email,
                &password,
                &request::client_addr(),
                ctx.sessions,
            )
            .await?;
            if let Some(old) = request::session_token() {
                session::end(&ctx.db, &old).await?;
            }
            request::set_session_cookie(&signed_in.token, &ctx);
            leptos_axum::redirect(&request::safe_next(next.as_deref(), &ctx.public_url));
            Ok(())
        }
        .await,
    )
}

/// Ends this browser's session and goes to the sign-in page.
#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            if let Some(token) = request::session_token() {
                session::end(&ctx.db, &token).await?;
            }
            request::clear_session_cookie(&ctx);
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// Whether this setup link still opens the setup page.
#[server(prefix = "/api", endpoint = "setup_open")]
pub async fn setup_open(token: String) -> Result<bool, AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            setup::is_open(&ctx.db, &Secret::new(token)).await
        }
        .await,
    )
}

/// Creates the first Owner, signs them in and goes to the dashboard.
#[server(prefix = "/api", endpoint = "complete_setup")]
pub async fn complete_setup(
    token: String,
    name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    answer(
        async {
            let ctx = request::ctx()?;
            let owner = setup::FirstOwner {
                name,
                email,
                password: Secret::new(password),
            };
            let user = setup::complete(&ctx.db, &Secret::new(token), owner).await?;
            let token = session::start(&ctx.db, user.id, ctx.sessions).await?;
            request::set_session_cookie(&token, &ctx);
            leptos_axum::redirect("/dashboard");
            Ok(())
        }
        .await,
    )
}

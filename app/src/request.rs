//! The request a server function is answering (server side only): its shared context, its
//! session cookie, who is signed in, and the HTTP status its error is sent with.

use crate::context::ServerContext;
use crate::error::AppError;
use domain::Error;
use domain::dto::SessionUser;
use domain::secret::Secret;
use domain::service::session;
use http::header::{ACCEPT, COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tollgate_session";

/// The shared server context.
///
/// # Errors
/// [`Error::Internal`] if the server did not provide it (a wiring bug).
pub fn ctx() -> Result<ServerContext, Error> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from the request context");
        Error::internal()
    })
}

/// The value of cookie `name` on this request.
pub fn cookie(name: &str) -> Option<String> {
    let parts = use_context::<Parts>()?;
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Who is signed in on this request, read fresh from the database.
///
/// # Errors
/// [`Error::Unauthenticated`] without a live session.
pub async fn current_user() -> Result<SessionUser, Error> {
    let ctx = ctx()?;
    let token = cookie(SESSION_COOKIE).ok_or(Error::Unauthenticated)?;
    session::authenticate(&ctx.db, &Secret::new(token), ctx.sessions).await
}

/// The session token of this request, if it carries one.
pub fn session_token() -> Option<Secret> {
    cookie(SESSION_COOKIE).map(Secret::new)
}

/// Sets the session cookie on the response.
pub fn set_session_cookie(token: &Secret, ctx: &ServerContext) {
    let max_age = ctx.sessions.absolute.num_seconds();
    let secure = if ctx.secure_cookies { "; Secure" } else { "" };
    let value = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        token.expose()
    );
    append_cookie(&value);
}

/// Removes the session cookie from the browser.
pub fn clear_session_cookie(ctx: &ServerContext) {
    let secure = if ctx.secure_cookies { "; Secure" } else { "" };
    append_cookie(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ));
}

fn append_cookie(value: &str) {
    if let (Some(res), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        res.append_header(SET_COOKIE, value);
    }
}

/// The client's address, as the connection reports it.
pub fn client_addr() -> String {
    use_context::<Parts>()
        .and_then(|p| {
            p.extensions
                .get::<crate::context::ClientAddr>()
                .map(|a| a.0.clone())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Whether this request is a scripted server-function call, whose error status the caller reads.
/// Not for a page render (the server calls the function directly; the page has its own status)
/// nor for a plain HTML form post with JavaScript off (answered with a redirect carrying the
/// error, so its status must stay a redirect).
fn is_scripted_call() -> bool {
    use_context::<Parts>().is_some_and(|p| {
        let accepts_html = p
            .headers
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        p.uri.path().starts_with(SERVER_FN_PREFIX) && !accepts_html
    })
}

/// Where server functions are mounted (`#[server(prefix = …)]`).
const SERVER_FN_PREFIX: &str = "/api/";

/// Turns a domain result into a server-function result, answering an error with its HTTP status
/// (401, 403, 404, 409, 422, 429, 500) for scripted callers.
///
/// # Errors
/// The domain error, wrapped.
pub fn answer<T>(result: Result<T, Error>) -> Result<T, AppError> {
    if let Err(err) = &result
        && is_scripted_call()
        && let (Some(res), Ok(status)) = (
            use_context::<ResponseOptions>(),
            StatusCode::from_u16(err.http_status()),
        )
    {
        res.set_status(status);
    }
    result.map_err(AppError)
}

/// A local path to go to after signing in: only same-site paths, never `//host`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") => {
            p.to_owned()
        }
        _ => "/dashboard".to_owned(),
    }
}

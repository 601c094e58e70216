//! The request a server function is answering (server side only): its shared context, its
//! session cookie, who is signed in, and the HTTP status its error is sent with.

use crate::context::ServerContext;
use crate::error::AppError;
use domain::Error;
use domain::dto::SessionUser;
use domain::secret::Secret;
use domain::service::session;
use http::header::{ACCEPT, COOKIE, RETRY_AFTER, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

/// The session cookie's name over plain http.
pub const SESSION_COOKIE: &str = "tollgate_session";
/// The session cookie's name over https. Browsers accept a `__Host-` cookie only when it is
/// `Secure`, has `Path=/` and no `Domain`, so no other host (a sibling subdomain, a plain-http
/// page on the same name) can set or replace it.
pub const HOST_SESSION_COOKIE: &str = "__Host-tollgate_session";

/// The session cookie's name for this server.
pub fn session_cookie_name(ctx: &ServerContext) -> &'static str {
    if ctx.secure_cookies {
        HOST_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

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
    cookie_in(&use_context::<Parts>()?.headers, name)
}

/// The value of cookie `name` in `headers`.
pub fn cookie_in(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Who is signed in by the session cookie in `headers`, read fresh from the database: for the
/// server's own routes outside the server functions (file downloads).
///
/// # Errors
/// [`Error::Unauthenticated`] without a live session.
pub async fn session_user(
    ctx: &ServerContext,
    headers: &http::HeaderMap,
) -> Result<SessionUser, Error> {
    let token = cookie_in(headers, session_cookie_name(ctx)).ok_or(Error::Unauthenticated)?;
    session::authenticate(&ctx.db, &Secret::new(token), ctx.sessions).await
}

/// Who is signed in on this request, read fresh from the database.
///
/// # Errors
/// [`Error::Unauthenticated`] without a live session.
pub async fn current_user() -> Result<SessionUser, Error> {
    signed_in_user(&ctx()?).await
}

async fn signed_in_user(ctx: &ServerContext) -> Result<SessionUser, Error> {
    let token = cookie(session_cookie_name(ctx)).ok_or(Error::Unauthenticated)?;
    session::authenticate(&ctx.db, &Secret::new(token), ctx.sessions).await
}

/// A server function's body for the signed-in person: `body` gets the shared context and who
/// is signed in, and its result is [`answer`]ed. Without a live session `body` does not run and
/// the answer is [`Error::Unauthenticated`] (401).
///
/// ```ignore
/// request::signed_in(async |ctx, me| users::list(&ctx.db, &me.actor(), &query).await).await
/// ```
///
/// # Errors
/// The domain error, wrapped and answered with its HTTP status.
pub async fn signed_in<T>(
    body: impl AsyncFnOnce(ServerContext, SessionUser) -> Result<T, Error>,
) -> Result<T, AppError> {
    answer(
        async {
            let ctx = ctx()?;
            let me = signed_in_user(&ctx).await?;
            body(ctx, me).await
        }
        .await,
    )
}

/// A server function's body that needs no session (signing in or out, setup, invite
/// acceptance): `body` gets the shared context, and its result is [`answer`]ed.
///
/// # Errors
/// The domain error, wrapped and answered with its HTTP status.
pub async fn with_ctx<T>(
    body: impl AsyncFnOnce(ServerContext) -> Result<T, Error>,
) -> Result<T, AppError> {
    answer(async { body(ctx()?).await }.await)
}

/// The session token of this request, if it carries one.
pub fn session_token() -> Option<Secret> {
    let ctx = use_context::<ServerContext>()?;
    cookie(session_cookie_name(&ctx)).map(Secret::new)
}

/// Sets the session cookie on the response.
pub fn set_session_cookie(token: &Secret, ctx: &ServerContext) {
    append_cookie(&session_cookie(token, ctx));
}

/// The `Set-Cookie` value that starts a session with `token` (also set by the single sign-on
/// callback, which is not a server function).
pub fn session_cookie(token: &Secret, ctx: &ServerContext) -> String {
    let max_age = ctx.sessions.absolute.num_seconds();
    let secure = if ctx.secure_cookies { "; Secure" } else { "" };
    format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        session_cookie_name(ctx),
        token.expose()
    )
}

/// Removes the session cookie from the browser.
pub fn clear_session_cookie(ctx: &ServerContext) {
    let secure = if ctx.secure_cookies { "; Secure" } else { "" };
    append_cookie(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        session_cookie_name(ctx)
    ));
}

/// Asks the browser to drop what it keeps of this site (`Clear-Site-Data: "cache"`): pages kept
/// for Back show the lists of whoever was signed in. The bundle goes too and is fetched again.
pub fn clear_cached_pages() {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.insert_header(
            http::HeaderName::from_static("clear-site-data"),
            HeaderValue::from_static("\"cache\""),
        );
    }
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
        let under_api = p
            .uri
            .path()
            .strip_prefix(crate::API_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'));
        under_api && !accepts_html
    })
}

/// Turns a domain result into a server-function result, answering an error with its HTTP status
/// (401, 403, 404, 409, 422, 429, 500) for scripted callers, and a 429 with `Retry-After`.
/// Server functions reach it through [`signed_in`] or [`with_ctx`].
///
/// # Errors
/// The domain error, wrapped.
fn answer<T>(result: Result<T, Error>) -> Result<T, AppError> {
    if let Err(err) = &result
        && is_scripted_call()
        && let (Some(res), Ok(status)) = (
            use_context::<ResponseOptions>(),
            StatusCode::from_u16(err.http_status()),
        )
    {
        res.set_status(status);
        if let Error::RateLimited { retry_after_secs } = err {
            res.insert_header(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
    }
    result.map_err(AppError)
}

/// Where to go after signing in: `next` when it is a path on this site, else `/dashboard`.
///
/// `next` is resolved against the public URL the way a browser resolves a `Location` header —
/// which drops tabs and newlines and reads `\` as `/`, so `/<tab>/evil.example` is
/// `//evil.example`, another host — and kept only if it stays on the public URL's origin. It is
/// also refused when it holds a control character or a backslash at all, and when decoding its
/// percent-escapes once would make it leave (`/%2F/evil.example`), in case anything downstream
/// decodes it again. What is kept is the resolved URL's path and query, percent-encoded, so it
/// is always a valid header value.
pub fn safe_next(next: Option<&str>, public_url: &str) -> String {
    next.and_then(|next| local_path(next, public_url))
        .unwrap_or_else(|| "/dashboard".to_owned())
}

/// `next`'s path and query when it is a path on `public_url`'s origin.
fn local_path(next: &str, public_url: &str) -> Option<String> {
    let base = ::url::Url::parse(public_url).ok()?;
    let resolved = on_site(&base, next)?;
    on_site(&base, &percent_decode(next))?;
    Some(resolved[::url::Position::BeforePath..].to_owned())
}

/// `candidate` resolved against `base`, if it is a plain path that stays on `base`'s origin.
fn on_site(base: &::url::Url, candidate: &str) -> Option<::url::Url> {
    let plain = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.chars().any(|c| c.is_control() || c == '\\');
    if !plain {
        return None;
    }
    let url = base.join(candidate).ok()?;
    let stays = url.origin() == base.origin()
        && url.username().is_empty()
        && url.password().is_none()
        // `/..//host` resolves to the path `//host`, which a browser reads as another host.
        && !url[::url::Position::BeforePath..].starts_with("//");
    stays.then_some(url)
}

/// `text` with its `%XX` escapes decoded once (bytes that are not UTF-8 become U+FFFD).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes.get(i).copied().unwrap_or_default(), hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    const PUBLIC: &str = "https://gate.example.com";

    #[test]
    fn paths_that_could_leave_the_site_go_to_the_dashboard() {
        let hostile = [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\t\t/evil.example",
            "\t//evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "\\\\evil.example",
            "//evil.example",
            "///evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "%2F%2Fevil.example",
            "/..//evil.example",
            "/.//evil.example",
            "/./%2F/evil.example",
            "https://evil.example/",
            "https://gate.example.com.evil.example/",
            "http://gate.example.com/dashboard",
            "https://user@gate.example.com/dashboard",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "dashboard",
            "",
            " ",
        ];
        for next in hostile {
            assert_eq!(safe_next(Some(next), PUBLIC), "/dashboard", "{next:?}");
        }
        assert_eq!(safe_next(None, PUBLIC), "/dashboard");
        // A public URL that cannot be read keeps nobody anywhere but home.
        assert_eq!(
            safe_next(Some("/dashboard/keys"), "not a url"),
            "/dashboard"
        );
    }

    #[test]
    fn local_paths_are_kept() {
        for next in [
            "/dashboard/configuration/users?q=a&role=admin",
            "/dashboard/keys",
            "/dashboard/teams?q=a%26b",
        ] {
            assert_eq!(safe_next(Some(next), PUBLIC), next);
        }
        // Kept percent-encoded, so it is always a valid Location.
        assert_eq!(
            safe_next(Some("/dashboard/keys?a=1&b=é"), PUBLIC),
            "/dashboard/keys?a=1&b=%C3%A9"
        );
        assert_eq!(
            safe_next(Some("/dashboard/users"), "http://127.0.0.1:3000"),
            "/dashboard/users"
        );
    }
}

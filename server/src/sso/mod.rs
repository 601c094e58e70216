//! Single sign-on's two browser routes. `GET /auth/sso/start` sends the browser to the identity
//! provider (authorization code flow with PKCE, `state` and `nonce`, kept in a sealed cookie);
//! `GET /auth/sso/callback` takes it back, has [`oidc`] exchange the code and check the ID token,
//! and lets `domain` decide who that is. A refusal lands on the sign-in page with a code the page
//! words ([`domain::sso::Refusal`]); nothing the provider says is shown as it is.

mod attempt;
pub mod env;
pub mod oidc;

use crate::router::AppState;
use app::context::{ClientAddr, ServerContext};
use attempt::Attempt;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::service::sso::{self as sso_service, sign_in};
use domain::sso::{CALLBACK_PATH, Discovery, Refusal, START_PATH};
use oidc::{Oidc, OidcError};
use serde::Deserialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The longest `next` kept across a sign-in (the sealed cookie must stay under 4 KB).
const MAX_NEXT: usize = 1_024;

/// The two routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(START_PATH, get(start))
        .route(CALLBACK_PATH, get(callback))
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

/// A 303 to `to`, with `cookies` set.
fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut response = (
        axum::http::StatusCode::SEE_OTHER,
        [(header::LOCATION, to.to_owned())],
    )
        .into_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    // A redirect carrying a session or an attempt is nobody else's to keep.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn redirect_uri(ctx: &ServerContext) -> String {
    format!("{}{CALLBACK_PATH}", ctx.public_url)
}

async fn start(State(state): State<AppState>, Query(query): Query<StartQuery>) -> Response {
    let ctx = &state.server;
    let settings = match sso_service::client(&ctx.db, &ctx.sealer).await {
        Ok(Some(settings)) => settings,
        Ok(None) => return see_other(&Refusal::Off.login_url(), &[]),
        Err(_) => return see_other(&Refusal::Failed.login_url(), &[]),
    };
    let authorization = match state.sso.authorize(&settings, &redirect_uri(ctx)).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("single sign-on could not start: {e}");
            return see_other(&Refusal::Unreachable.login_url(), &[]);
        }
    };
    let attempt = Attempt {
        state: authorization.state,
        nonce: authorization.nonce,
        verifier: authorization.verifier,
        issuer: settings.settings.issuer,
        // A page to land on fits in the cookie: a longer one lands on the dashboard.
        next: app::request::safe_next(
            query.next.as_deref().filter(|n| n.len() <= MAX_NEXT),
            &ctx.public_url,
        ),
        expires: chrono::Utc::now().timestamp() + attempt::LIFETIME_SECS,
    };
    let cookie = attempt.cookie(&ctx.sealer, ctx.secure_cookies);
    see_other(&authorization.url, &[cookie])
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
    client: Option<axum::Extension<ClientAddr>>,
) -> Response {
    let ctx = &state.server;
    let cleared = attempt::cleared(ctx.secure_cookies);
    let refuse = |r: Refusal| see_other(&r.login_url(), std::slice::from_ref(&cleared));
    // Only the browser that started the attempt holds its cookie, and only its state matches:
    // a link someone else made (login CSRF) finds neither.
    let Some(attempt) = Attempt::from_headers(&headers, &ctx.sealer, ctx.secure_cookies) else {
        return refuse(Refusal::Failed);
    };
    if query.state.as_deref() != Some(attempt.state.as_str()) {
        return refuse(Refusal::Failed);
    }
    if let Some(error) = query.error.as_deref() {
        // Quoted (`{:?}`): the value is whatever the link said, and may hold line breaks.
        let error: String = error.chars().take(64).collect();
        tracing::info!("the identity provider answered the sign-in with {error:?}");
        let error = error.as_str();
        return refuse(if error == "access_denied" {
            Refusal::Cancelled
        } else {
            Refusal::Failed
        });
    }
    let Some(code) = query.code.as_deref() else {
        return refuse(Refusal::Failed);
    };
    let settings = match sso_service::client(&ctx.db, &ctx.sealer).await {
        Ok(Some(s)) if s.settings.issuer == attempt.issuer => s,
        Ok(Some(_)) => return refuse(Refusal::Failed),
        Ok(None) => return refuse(Refusal::Off),
        Err(_) => return refuse(Refusal::Failed),
    };
    let identity = state
        .sso
        .identify(
            &settings,
            &redirect_uri(ctx),
            code,
            &attempt.verifier,
            &attempt.nonce,
        )
        .await;
    let identity = match identity {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!("single sign-on refused: {e}");
            return refuse(match e {
                OidcError::Unreachable(_) => Refusal::Unreachable,
                OidcError::Rejected(_) => Refusal::Failed,
            });
        }
    };
    let addr = client.map(|c| c.0.0).unwrap_or_default();
    match sign_in::sign_in(&ctx.db, &identity, &addr, ctx.sessions).await {
        Ok(Ok(signed_in)) => {
            // The sign-in may have created someone or changed their role from a claim: the
            // gateway's memory of keys and roles is brought up to date before the answer.
            let _ = state.gateway.access.catch_up(&ctx.db).await;
            // A session this browser had before (someone else's, perhaps) ends here.
            if let Some(old) =
                app::request::cookie_in(&headers, app::request::session_cookie_name(ctx))
            {
                let _ =
                    domain::service::session::end(&ctx.db, &domain::secret::Secret::new(old)).await;
            }
            let session = app::request::session_cookie(&signed_in.token, ctx);
            see_other(&attempt.next, &[cleared, session])
        }
        Ok(Err(refusal)) => {
            tracing::info!("single sign-on refused: {}", refusal.code());
            refuse(refusal)
        }
        Err(_) => refuse(Refusal::Failed),
    }
}

impl app::context::SsoTester for Oidc {
    fn test<'a>(
        &'a self,
        issuer: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Discovery, String>> + Send + 'a>> {
        Box::pin(async move { Oidc::test(self, issuer).await.map_err(|e| e.to_string()) })
    }
}

/// The shared relying party, for the router state and the settings page's Test button.
pub fn relying_party() -> Arc<Oidc> {
    Arc::new(Oidc::default())
}

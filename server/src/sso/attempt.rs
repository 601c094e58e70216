//! A browser's single sign-on in progress, kept in a cookie sealed with the gateway's key (so
//! any instance can finish it and nobody can read or forge it): the `state` the provider must
//! send back, the `nonce` the ID token must carry, the PKCE verifier, the issuer it went to and
//! the page to land on. It lives ten minutes and is cleared when the provider sends the browser
//! back, whatever happened.

use domain::sealing::{Purpose, Sealer};
use serde::{Deserialize, Serialize};

/// How long a person may take at the provider.
pub const LIFETIME_SECS: i64 = 10 * 60;
const COOKIE: &str = "tollgate_sso";
/// Over https: only this host, over https, may set it.
const HOST_COOKIE: &str = "__Host-tollgate_sso";
/// The context attempts are sealed in.
const CONTEXT: &str = "attempt";

/// What the callback needs to finish a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub issuer: String,
    pub next: String,
    /// Unix seconds after which it is refused.
    pub expires: i64,
}

fn name(secure: bool) -> &'static str {
    if secure { HOST_COOKIE } else { COOKIE }
}

impl Attempt {
    /// The `Set-Cookie` value that keeps it. `SameSite=Lax`: the provider sends the browser back
    /// with a top-level GET, which carries it.
    pub fn cookie(&self, sealer: &Sealer, secure: bool) -> String {
        let plain = serde_json::to_string(self).unwrap_or_default();
        let sealed = sealer.seal(Purpose::SsoAttempt, CONTEXT, &plain);
        let flag = if secure { "; Secure" } else { "" };
        format!(
            "{}={sealed}; Path=/; HttpOnly; SameSite=Lax; Max-Age={LIFETIME_SECS}{flag}",
            name(secure)
        )
    }

    /// The attempt the request's cookie holds, if it opens and has not expired.
    pub fn from_headers(headers: &http::HeaderMap, sealer: &Sealer, secure: bool) -> Option<Self> {
        let sealed = app::request::cookie_in(headers, name(secure))?;
        let opened = sealer.open(Purpose::SsoAttempt, CONTEXT, &sealed).ok()?;
        let attempt: Attempt = serde_json::from_str(opened.secret.expose()).ok()?;
        (attempt.expires > chrono::Utc::now().timestamp()).then_some(attempt)
    }
}

/// The `Set-Cookie` value that removes it.
pub fn cleared(secure: bool) -> String {
    let flag = if secure { "; Secure" } else { "" };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{flag}",
        name(secure)
    )
}

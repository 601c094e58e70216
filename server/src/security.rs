//! Hardening for every response: refuse cross-site writes, send security headers, and a
//! per-response nonce-based Content Security Policy on pages.

use app::context::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, HOST, ORIGIN, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// For responses that are not pages (server functions, files, health): nothing may run.
const STRICT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Sets the page's Content Security Policy with this response's nonce. Called while a page
/// renders, after Leptos has made the nonce.
pub fn provide_page_csp() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// Adds the security headers every response carries.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(STRICT_CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // same-origin keeps the Referer that plain (JavaScript-off) form posts are redirected back to.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// Refuses with 403 any state-changing request that a browser says comes from another site.
pub async fn refuse_cross_site_writes(
    State(public_origin): State<Option<String>>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || is_same_site(request.headers(), public_origin.as_deref()) {
        next.run(request).await
    } else {
        (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
    }
}

/// Whether the browser's own headers place this request on this site. Requests without them
/// (API clients, curl) are not browser-driven cross-site requests and pass.
fn is_same_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if public_origin.is_some_and(|p| p.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or("null");
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Records the client's address on the request for the handlers (throttling, audit log).
pub async fn client_addr(mut request: Request, next: Next) -> Response {
    let addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |ci| ci.0.ip().to_string());
    request.extensions_mut().insert(ClientAddr(addr));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_and_headerless_requests_pass() {
        assert!(is_same_site(&headers(&[]), None));
        assert!(is_same_site(
            &headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000")
            ]),
            None
        ));
        assert!(is_same_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(is_same_site(
            &headers(&[
                ("host", "internal:3000"),
                ("origin", "https://gate.example.com")
            ]),
            Some("https://gate.example.com")
        ));
    }

    #[test]
    fn other_sites_are_refused() {
        assert!(!is_same_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(!is_same_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            None
        ));
        assert!(!is_same_site(
            &headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "https://evil.example")
            ]),
            None
        ));
        assert!(!is_same_site(
            &headers(&[("host", "127.0.0.1:3000"), ("origin", "null")]),
            None
        ));
    }
}

//! Hardening for every response: refuse cross-site writes, send security headers (HSTS when
//! served over https), a per-response nonce-based Content Security Policy on pages, and the
//! client's address as trusted proxies report it.

use app::context::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, HOST, ORIGIN, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::net::Ranges;
use std::net::{IpAddr, SocketAddr};

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
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// The policy of a page whose scripts carry `nonce`.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The largest page read to find its nonce when the render did not set its policy.
const PAGE_MAX: usize = 8 * 1024 * 1024;

/// A page that reached here without its policy (now and then a render's response options come
/// back without the header [`provide_page_csp`] set; seen as ~15 % of dashboard loads in
/// Chromium, never with curl) would get [`STRICT_CSP`], which blocks its own stylesheet and
/// scripts: the page's policy is made from the nonce its scripts carry instead.
async fn page_without_policy(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, PAGE_MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "The page was too large.").into_response();
    };
    if let Some(nonce) = nonce_in(&bytes)
        && let Ok(value) = HeaderValue::from_str(&page_policy(nonce))
    {
        parts.headers.insert(CONTENT_SECURITY_POLICY, value);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The first `nonce="…"` in a page (Leptos' nonces are URL-safe base64).
fn nonce_in(page: &[u8]) -> Option<&str> {
    const MARK: &[u8] = b"nonce=\"";
    let start = page.windows(MARK.len()).position(|w| w == MARK)? + MARK.len();
    let len = page[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='))
        .count();
    (len > 0 && page.get(start + len) == Some(&b'"'))
        .then(|| std::str::from_utf8(&page[start..start + len]).ok())
        .flatten()
}

/// Adds the security headers every response carries.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let page = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if page && !response.headers().contains_key(CONTENT_SECURITY_POLICY) {
        response = page_without_policy(response).await;
    }
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

/// Tells browsers to reach this host over https only, for a year, on every response — when the
/// public URL is https (`https`). Over plain http it would be ignored, and it would be wrong.
pub async fn strict_transport(State(https): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if https {
        response.headers_mut().insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
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

/// Records the client's address on the request for the handlers (throttling, audit log): the
/// connection's peer, or, when the peer is one of the trusted `proxies`, the client it forwards
/// for (see [`client_ip`]).
pub async fn client_addr(
    State(proxies): State<Ranges>,
    mut request: Request,
    next: Next,
) -> Response {
    let addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(
            || "unknown".to_owned(),
            |ci| client_ip(ci.0.ip(), request.headers(), &proxies).to_string(),
        );
    request.extensions_mut().insert(ClientAddr(addr));
    next.run(request).await
}

/// The client behind `peer`. Each proxy appends the address it received the request from to
/// `X-Forwarded-For`, so only entries appended by trusted proxies can be believed: walking from
/// the right, past trusted proxies, the first other entry is the client. Entries further left
/// were written by the client and are ignored. A peer that is not a trusted proxy is the client
/// itself, whatever the header says.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &Ranges) -> IpAddr {
    let peer = domain::net::canonical(peer);
    if !proxies.contains(peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        // Unreadable: not written by a proxy we trust; the last trusted hop is all we know.
        let Some(addr) = forwarded_addr(entry) else {
            break;
        };
        client = addr;
        if !proxies.contains(addr) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry's address: `192.0.2.1`, `2001:db8::1`, or either with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`), as some proxies write it.
fn forwarded_addr(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(domain::net::canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pages_nonce_is_found_in_its_markup() {
        let page = br#"<link rel="modulepreload" href="/pkg/a.js"/><script type="module" nonce="Ab-9_x+/=">"#;
        assert_eq!(nonce_in(page), Some("Ab-9_x+/="));
        assert_eq!(nonce_in(br#"<script nonce="">"#), None);
        assert_eq!(nonce_in(br#"<script nonce="abc"#), None);
        assert_eq!(nonce_in(b"<p>no script</p>"), None);
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let none = Ranges::default();
        let claims = forwarded(&["203.0.113.7"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &claims, &none), ip("10.0.0.2"));
        // A peer outside the trusted ranges cannot speak for anyone else.
        let proxies: Ranges = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            client_ip(ip("198.51.100.1"), &claims, &proxies),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_the_rightmost_untrusted_entry() {
        let proxies: Ranges = "10.0.0.0/8, fd00::/8".parse().unwrap();
        let peer = ip("10.0.0.2");
        // One proxy: it appended the client.
        assert_eq!(
            client_ip(peer, &forwarded(&["203.0.113.7"]), &proxies),
            ip("203.0.113.7")
        );
        // The client made up entries on the left; the proxy's own entry is the right-most.
        assert_eq!(
            client_ip(
                peer,
                &forwarded(&["1.2.3.4, 5.6.7.8, 203.0.113.7"]),
                &proxies
            ),
            ip("203.0.113.7")
        );
        // Two proxies in a row, the header split over two lines, with spaces and a port.
        assert_eq!(
            client_ip(
                peer,
                &forwarded(&["6.6.6.6,  203.0.113.7:4711", " 10.1.1.1 "]),
                &proxies
            ),
            ip("203.0.113.7")
        );
        assert_eq!(
            client_ip(
                ip("fd00::2"),
                &forwarded(&["[2001:db8::9]:443", "fd00::1"]),
                &proxies
            ),
            ip("2001:db8::9")
        );
        // A client claiming to be a trusted proxy does not get further than its own entry.
        assert_eq!(
            client_ip(peer, &forwarded(&["203.0.113.7, 10.9.9.9"]), &proxies),
            ip("203.0.113.7")
        );
        // Nothing forwarded (the proxy's own health check): the proxy.
        assert_eq!(client_ip(peer, &HeaderMap::new(), &proxies), peer);
        // Garbage where the proxy's entry should be: the last trusted hop.
        assert_eq!(
            client_ip(peer, &forwarded(&["203.0.113.7, not-an-ip"]), &proxies),
            peer
        );
        assert_eq!(
            client_ip(peer, &forwarded(&["unknown, 10.1.1.1"]), &proxies),
            ip("10.1.1.1")
        );
        // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
        assert_eq!(
            client_ip(
                ip("::ffff:10.0.0.2"),
                &forwarded(&["203.0.113.7"]),
                &proxies
            ),
            ip("203.0.113.7")
        );
    }

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

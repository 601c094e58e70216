//! HTTP-level tests of the router the binary serves: sessions, status codes, the origin check,
//! security headers and the health check. Requests go through `tollgate::router::app` in-process.

use crate::support::{PASSWORD, TestServer, text};
use axum::body::Body;
use domain::service::setup;
use http::{Request, StatusCode, header};

const EMAIL: &str = "ada@example.com";

/// A server on a fresh SQLite file, with the first Owner (Ada) created through setup.
struct Harness(TestServer);

impl std::ops::Deref for Harness {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl Harness {
    async fn new() -> Self {
        Harness(TestServer::with_owner("Ada", EMAIL, &[]).await.0)
    }

    /// Signs in through the server function, as the hydrated app does; checks the cookie's
    /// flags and returns the cookie pair.
    async fn sign_in(&self) -> String {
        let res = self.send(sign_in_request(PASSWORD)).await;
        assert_eq!(res.status(), StatusCode::OK, "sign-in");
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .expect("a session cookie")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        cookie.split(';').next().unwrap().to_owned()
    }

    async fn finish(self) {
        self.0.finish().await;
    }
}

fn sign_in_request(password: &str) -> Request<Body> {
    Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(format!(
            "email={EMAIL}&password={}",
            password.replace(' ', "+")
        )))
        .unwrap()
}

fn call(endpoint: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn a_session_cookie_opens_server_functions_and_sign_out_closes_them() {
    let h = Harness::new().await;
    assert_eq!(
        h.send(call("current_user", None)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let cookie = h.sign_in().await;
    let res = h.send(call("current_user", Some(&cookie))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = text(res).await;
    assert!(
        body.contains(r#""role":"owner""#) && body.contains(EMAIL),
        "{body}"
    );

    let out = h.send(call("sign_out", Some(&cookie))).await;
    assert_eq!(out.status(), StatusCode::OK);
    // Signed-in pages the browser kept (for Back) go with the session: on a shared computer
    // the next person cannot page back into the lists.
    assert_eq!(
        out.headers()
            .get("clear-site-data")
            .map(|v| v.to_str().unwrap()),
        Some("\"cache\"")
    );
    assert_eq!(
        h.send(call("current_user", Some(&cookie))).await.status(),
        StatusCode::UNAUTHORIZED
    );
    h.finish().await;
}

#[tokio::test]
async fn a_wrong_password_gets_the_generic_message_and_no_cookie() {
    let h = Harness::new().await;
    let res = h.send(sign_in_request("wrong password entirely")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.headers().get(header::SET_COOKIE).is_none());
    assert!(text(res).await.contains("Email or password is incorrect."));
    h.finish().await;
}

#[tokio::test]
async fn a_suspended_users_session_is_refused_on_its_next_request() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let h = Harness::new().await;
    let cookie = h.sign_in().await;
    domain::entity::user::Entity::update_many()
        .col_expr(
            domain::entity::user::Column::Status,
            Expr::value("suspended"),
        )
        .filter(domain::entity::user::Column::EmailNormalized.eq(EMAIL))
        .exec(&h.db)
        .await
        .unwrap();
    assert_eq!(
        h.send(call("current_user", Some(&cookie))).await.status(),
        StatusCode::UNAUTHORIZED
    );
    h.finish().await;
}

#[tokio::test]
async fn pages_without_a_session_redirect_to_sign_in() {
    let h = Harness::new().await;
    let res = h
        .send(
            Request::get("/dashboard/keys")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/login?next=/dashboard/keys"
    );

    let cookie = h.sign_in().await;
    let res = h
        .send(
            Request::get("/dashboard/keys")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("API keys"));
    h.finish().await;
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let h = Harness::new().await;
    let mut from_evil = sign_in_request(PASSWORD);
    from_evil
        .headers_mut()
        .insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
    from_evil
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(h.send(from_evil).await.status(), StatusCode::FORBIDDEN);

    let mut fetch_cross = sign_in_request(PASSWORD);
    fetch_cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let res = h.send(fetch_cross).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().get(header::SET_COOKIE).is_none());

    let mut same = sign_in_request(PASSWORD);
    same.headers_mut()
        .insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
    same.headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
    same.headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().unwrap());
    assert_eq!(h.send(same).await.status(), StatusCode::OK);
    h.finish().await;
}

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_policy() {
    let h = Harness::new().await;
    let res = h
        .send(Request::get("/login").body(Body::empty()).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("'nonce-") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::REFERRER_POLICY], "same-origin");
    let html = text(res).await;
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the nonce"
    );

    let api = h.send(call("current_user", None)).await;
    assert!(
        api.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    h.finish().await;
}

#[tokio::test]
async fn the_health_check_follows_the_database() {
    let h = Harness::new().await;
    let get = || Request::get("/healthz").body(Body::empty()).unwrap();
    assert_eq!(h.send(get()).await.status(), StatusCode::OK);
    h.db.clone().close().await.unwrap();
    assert_eq!(
        h.send(get()).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    h.finish().await;
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let h = Harness::new().await;
    let res = h
        .send(Request::get("/no/such/page").body(Body::empty()).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    h.finish().await;
}

#[tokio::test]
async fn the_setup_link_works_once() {
    let server = TestServer::empty(&[]).await;
    let token = setup::issue_token(&server.db).await.unwrap().unwrap();
    let complete = || {
        Request::post("/api/complete_setup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(format!(
                "token={}&name=Ada&email=ada%40example.com&password=correct+horse+battery",
                token.expose()
            )))
            .unwrap()
    };
    let first = server.send(complete()).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(
        first.headers().get(header::SET_COOKIE).is_some(),
        "the new Owner is signed in"
    );
    let second = server.send(complete()).await;
    assert_eq!(second.status(), StatusCode::NOT_FOUND);
    server.finish().await;
}

/// Percent-encodes every byte but letters and digits, for a form value.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs in with `next`, as a script (`html` false: JSON accepted, status 200 and a Location
/// to follow) or as a plain form post with JavaScript off (`html` true: a 302).
async fn sign_in_to(h: &TestServer, next: &str, html: bool) -> (StatusCode, Option<String>) {
    let accept = if html {
        "text/html"
    } else {
        "application/json"
    };
    let req = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, accept)
        .body(Body::from(format!(
            "email={EMAIL}&password={}&next={}",
            PASSWORD.replace(' ', "+"),
            form_encode(next)
        )))
        .unwrap();
    let res = h.send(req).await;
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), location)
}

#[tokio::test]
async fn after_sign_in_a_hostile_next_goes_to_the_dashboard_and_a_local_one_is_kept() {
    let h = Harness::new().await;
    let hostile = [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/..//evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "",
    ];
    for html in [false, true] {
        let ok = if html {
            StatusCode::FOUND
        } else {
            StatusCode::OK
        };
        for next in hostile {
            let (status, location) = sign_in_to(&h, next, html).await;
            assert_eq!(status, ok, "next {next:?} (html {html})");
            assert_eq!(
                location.as_deref(),
                Some("/dashboard"),
                "next {next:?} (html {html})"
            );
        }
        let local = "/dashboard/configuration/users?q=a&role=admin";
        let (status, location) = sign_in_to(&h, local, html).await;
        assert_eq!(status, ok);
        assert_eq!(location.as_deref(), Some(local), "html {html}");
    }
    h.finish().await;
}

/// The header `name` of a GET of `path` on `server`, if sent.
async fn header_of(server: &TestServer, path: &str, name: &str) -> Option<String> {
    let res = server
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await;
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn over_https_the_session_cookie_is_host_prefixed_and_every_response_has_hsts() {
    let (server, _) =
        TestServer::with_owner("Ada", EMAIL, &["--public-url", "https://gate.example.com"]).await;
    let res = server.send(sign_in_request(PASSWORD)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set_cookie = res.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.starts_with("__Host-tollgate_session=")
            && set_cookie.contains("; Secure")
            && set_cookie.contains("; Path=/;")
            && !set_cookie.to_ascii_lowercase().contains("domain="),
        "{set_cookie}"
    );
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    assert_eq!(
        server
            .send(call("current_user", Some(&pair)))
            .await
            .status(),
        StatusCode::OK
    );
    // The same token under the unprefixed name is not read: only the __Host- cookie counts.
    let unprefixed = pair.replacen("__Host-", "", 1);
    assert_eq!(
        server
            .send(call("current_user", Some(&unprefixed)))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Signing out clears the prefixed cookie.
    let res = server.send(call("sign_out", Some(&pair))).await;
    let cleared = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cleared.starts_with("__Host-tollgate_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    for path in ["/login", "/healthz", "/no/such/page", "/v1/models"] {
        assert_eq!(
            header_of(&server, path, "strict-transport-security")
                .await
                .as_deref(),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    server.finish().await;

    // Over plain http neither: the cookie keeps its plain name and no HSTS is sent.
    let h = Harness::new().await;
    assert!(h.sign_in().await.starts_with("tollgate_session="));
    assert_eq!(
        header_of(&h, "/login", "strict-transport-security").await,
        None
    );
    h.finish().await;
}

#[tokio::test]
async fn a_throttled_sign_in_answers_429_with_retry_after() {
    let h = Harness::new().await;
    for _ in 0..5 {
        let res = h.send(sign_in_request("wrong password entirely")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = h.send(sign_in_request("wrong password entirely")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    h.finish().await;
}

/// The address subjects the sign-in throttle has counted on `server`.
async fn counted_addresses(server: &TestServer) -> Vec<String> {
    use sea_orm::EntityTrait;
    domain::entity::sign_in_failure::Entity::find()
        .all(&server.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|row| row.subject.strip_prefix("addr:").map(str::to_owned))
        .collect()
}

/// A wrong sign-in over a real socket (so the connection has a peer), with `forwarded` as
/// `X-Forwarded-For`.
async fn wrong_sign_in_over_http(server: &TestServer, forwarded: &str) {
    let addr = server.listen().await;
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/api/sign_in"))
        .header("accept", "application/json")
        .header("x-forwarded-for", forwarded)
        .form(&[("email", EMAIL), ("password", "wrong password entirely")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_throttle_counts_the_forwarded_client_only_behind_a_trusted_proxy() {
    // Loopback is the proxy: the client is the right-most entry it did not write itself.
    let (behind, _) =
        TestServer::with_owner("Ada", EMAIL, &["--trusted-proxies", "127.0.0.0/8"]).await;
    wrong_sign_in_over_http(&behind, "6.6.6.6, 203.0.113.7").await;
    assert_eq!(counted_addresses(&behind).await, ["203.0.113.7"]);
    behind.finish().await;

    // No trusted proxies: the header is whatever the client says, and ignored.
    let (direct, _) = TestServer::with_owner("Ada", EMAIL, &[]).await;
    wrong_sign_in_over_http(&direct, "203.0.113.7").await;
    assert_eq!(counted_addresses(&direct).await, ["127.0.0.1"]);
    direct.finish().await;
}

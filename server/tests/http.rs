//! HTTP-level tests of the router the binary serves: sessions, status codes, the origin check,
//! security headers and the health check. Requests go through `tollgate::router::app` in-process.

use axum::Router;
use axum::body::Body;
use domain::db::DatabaseConnection;
use domain::secret::Secret;
use domain::service::setup;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tollgate::config::Config;
use tollgate::router;
use tower::ServiceExt;

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";

struct Harness {
    app: Router,
    db: DatabaseConnection,
    path: std::path::PathBuf,
}

impl Harness {
    /// A server on a fresh SQLite file, with the first Owner created through setup.
    async fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "tollgate-http-{}.db",
            &Secret::random().digest()[..16]
        ));
        let config = config(&format!("sqlite://{}?mode=rwc", path.display()));
        let db = tollgate::serve::open_database(&config)
            .await
            .expect("database");
        let token = setup::issue_token(&db).await.unwrap().unwrap();
        let owner = setup::FirstOwner {
            name: "Ada".into(),
            email: EMAIL.into(),
            password: Secret::new(PASSWORD),
        };
        setup::complete(&db, &token, owner).await.unwrap();
        let app = router::app(tollgate::serve::app_state(&config, db.clone()));
        Harness { app, db, path }
    }

    async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.app.clone().oneshot(request).await.expect("response")
    }

    /// Signs in through the server function, as the hydrated app does; returns the cookie pair.
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
        self.db.close().await.ok();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

fn config(database_url: &str) -> Config {
    use clap::Parser;
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        config: Config,
    }
    Args::parse_from([
        "tollgate",
        "--database-url",
        database_url,
        "--site-root",
        "target/site",
    ])
    .config
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

async fn text(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
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

    assert_eq!(
        h.send(call("sign_out", Some(&cookie))).await.status(),
        StatusCode::OK
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
    let path = std::env::temp_dir().join(format!(
        "tollgate-http-{}.db",
        &Secret::random().digest()[..16]
    ));
    let config = config(&format!("sqlite://{}?mode=rwc", path.display()));
    let db = tollgate::serve::open_database(&config).await.unwrap();
    let token = setup::issue_token(&db).await.unwrap().unwrap();
    let app = router::app(tollgate::serve::app_state(&config, db.clone()));
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
    let first = app.clone().oneshot(complete()).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert!(
        first.headers().get(header::SET_COOKIE).is_some(),
        "the new Owner is signed in"
    );
    let second = app.oneshot(complete()).await.unwrap();
    assert_eq!(second.status(), StatusCode::NOT_FOUND);
    db.close().await.ok();
    let _ = std::fs::remove_file(&path);
}

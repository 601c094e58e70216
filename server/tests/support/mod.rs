//! What the server's HTTP tests share: a configuration, a fresh SQLite file (optionally with the
//! first Owner), requests through the exact router the binary serves, and cleanup.

pub mod gateway;
pub mod smtp;

use axum::Router;
use axum::body::Body;
use domain::UserId;
use domain::db::DatabaseConnection;
use domain::secret::Secret;
use domain::service::setup;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use std::path::PathBuf;
use tollgate::config::Config;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

/// The configuration `tollgate` would read from these flags.
pub fn config(database_url: &str, extra: &[&str]) -> Config {
    use clap::Parser;
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        config: Config,
    }
    let mut args = vec![
        "tollgate",
        "--database-url",
        database_url,
        "--site-root",
        "target/site",
    ];
    args.extend_from_slice(extra);
    Args::parse_from(args).config
}

/// The router on a fresh SQLite file.
pub struct TestServer {
    pub app: Router,
    pub db: DatabaseConnection,
    path: PathBuf,
}

impl TestServer {
    /// No users yet; `extra` are more command-line flags.
    pub async fn empty(extra: &[&str]) -> Self {
        Self::empty_with(extra, |_| {}).await
    }

    /// No users yet, with the router state adjusted by `adjust` first.
    pub async fn empty_with(
        extra: &[&str],
        adjust: impl FnOnce(&mut tollgate::router::AppState),
    ) -> Self {
        let path = std::env::temp_dir().join(format!(
            "tollgate-test-{}.db",
            &Secret::random().digest()[..16]
        ));
        let config = config(&format!("sqlite://{}?mode=rwc", path.display()), extra);
        let db = tollgate::serve::open_database(&config)
            .await
            .expect("database");
        let mut state = tollgate::serve::app_state(&config, db.clone())
            .await
            .expect("app state");
        adjust(&mut state);
        let app = tollgate::router::app(state);
        TestServer { app, db, path }
    }

    /// With the first Owner created through setup, password [`PASSWORD`].
    pub async fn with_owner(name: &str, email: &str, extra: &[&str]) -> (Self, UserId) {
        Self::with_owner_and(name, email, extra, |_| {}).await
    }

    /// With the first Owner, and the router state adjusted by `adjust`.
    pub async fn with_owner_and(
        name: &str,
        email: &str,
        extra: &[&str],
        adjust: impl FnOnce(&mut tollgate::router::AppState),
    ) -> (Self, UserId) {
        let server = Self::empty_with(extra, adjust).await;
        let token = setup::issue_token(&server.db).await.unwrap().unwrap();
        let owner = setup::FirstOwner {
            name: name.into(),
            email: email.into(),
            password: Secret::new(PASSWORD),
        };
        let owner = setup::complete(&server.db, &token, owner).await.unwrap();
        (server, owner.id)
    }

    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.app.clone().oneshot(request).await.expect("response")
    }

    /// Posts a form to a server function as a script would (JSON accepted); answers the
    /// status, the body and any new session cookie pair.
    pub async fn post(
        &self,
        endpoint: &str,
        form: &str,
        cookie: Option<&str>,
    ) -> (StatusCode, String, Option<String>) {
        let mut req = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let res = self
            .send(req.body(Body::from(form.to_owned())).unwrap())
            .await;
        let status = res.status();
        let set_cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
        (status, text(res).await, set_cookie)
    }

    /// Posts JSON to a server function that takes JSON input (the lists); answers the status
    /// and the body.
    pub async fn post_json(
        &self,
        endpoint: &str,
        json: &str,
        cookie: &str,
    ) -> (StatusCode, String) {
        let req = Request::post(format!("/api/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, cookie)
            .body(Body::from(json.to_owned()))
            .unwrap();
        let res = self.send(req).await;
        (res.status(), text(res).await)
    }

    /// Gets a page as a browser would; answers the status and the HTML.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
        let mut req = Request::get(path).header(header::ACCEPT, "text/html");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let res = self.send(req.body(Body::empty()).unwrap()).await;
        (res.status(), text(res).await)
    }

    /// Someone invited by `owner` as `role` who accepted (password [`PASSWORD`]) and signed in;
    /// answers their id and session cookie.
    pub async fn add_person(
        &self,
        owner: UserId,
        email: &str,
        role: domain::Role,
    ) -> (UserId, String) {
        let owner = domain::Actor {
            id: owner,
            role: domain::Role::Owner,
            status: domain::Status::Active,
        };
        let input = domain::service::invites::InviteInput {
            email: email.to_owned(),
            role,
            team: None,
        };
        let invited = domain::service::invites::invite(&self.db, &owner, input)
            .await
            .unwrap();
        domain::service::invites::accept(
            &self.db,
            &invited.token,
            role.label(),
            &Secret::new(PASSWORD),
        )
        .await
        .unwrap();
        (invited.user.id, self.sign_in(email).await)
    }

    /// Signs `email` in with [`PASSWORD`]; answers the session cookie pair.
    pub async fn sign_in(&self, email: &str) -> String {
        let form = format!("email={email}&password={}", PASSWORD.replace(' ', "+"));
        let (status, body, cookie) = self.post("sign_in", &form, None).await;
        assert_eq!(status, StatusCode::OK, "sign in {email}: {body}");
        cookie.expect("a session cookie")
    }

    /// Serves the router on a free loopback port (for clients that need a real socket).
    pub async fn listen(&self) -> std::net::SocketAddr {
        self.listen_reading_within(std::time::Duration::from_secs(30))
            .await
    }

    /// [`Self::listen`], giving clients `read_timeout` to send a request's headers and body.
    pub async fn listen_reading_within(
        &self,
        read_timeout: std::time::Duration,
    ) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self.app.clone();
        tokio::spawn(tollgate::listen::serve(
            listener,
            app,
            read_timeout,
            std::future::pending(),
        ));
        addr
    }

    pub async fn finish(self) {
        self.db.close().await.ok();
        for suffix in ["", "-wal", "-shm", "-ledger", ".key"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

pub async fn text(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

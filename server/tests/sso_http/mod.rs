//! Single sign-on with OpenID Connect over HTTP: the router in-process against a stub identity
//! provider on loopback ([`idp`]), single sign-on set by the `--sso-*` flags as an operator
//! would, and the test as the browser. What each test checks is what the browser is shown:
//! where the redirect goes (`/login?sso_error=<code>` for every refusal), whether a session
//! cookie came back, and that the session works.

mod accounts;
mod flow;
mod idp;
mod settings;
mod tokens;

use crate::support::TestServer;
use axum::body::Body;
use domain::UserId;
use domain::dto::SessionUser;
use domain::entity::{session as session_row, user};
use http::{Request, Response, StatusCode, header};
use idp::{Authorization, CLIENT_ID, CLIENT_SECRET, Claims, Idp};
use sea_orm::{EntityTrait, PaginatorTrait};

/// The page the sign-ins start from, and land on.
const NEXT: &str = "/dashboard/keys";
/// The gateway's public URL: the redirect URI is under it.
const PUBLIC_URL: &str = "http://gateway.test";
const OWNER_EMAIL: &str = "owner@example.com";

/// How single sign-on is set for a test. Always: client `tollgate` with secret `s3cret`, label
/// "Test IdP", only `example.com` addresses, the `groups` claim with `gateway-admins` = Admin.
struct Setup {
    /// `refuse`, `viewer` or `member`.
    new_people: &'static str,
    password_sign_in: bool,
    /// What the provider says it signs ID tokens with.
    algs: &'static [&'static str],
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            new_people: "member",
            password_sign_in: true,
            algs: &["RS256"],
        }
    }
}

/// The `--sso-*` flags of `setup`, for the provider at `issuer`.
fn sso_flags(issuer: &str, setup: &Setup) -> Vec<String> {
    [
        ("--sso-issuer", issuer),
        ("--sso-client-id", CLIENT_ID),
        ("--sso-client-secret", CLIENT_SECRET),
        ("--sso-label", "Test IdP"),
        ("--sso-allowed-domains", "example.com"),
        ("--sso-new-people", setup.new_people),
        ("--sso-groups-claim", "groups"),
        ("--sso-group-roles", "gateway-admins=Admin"),
        (
            "--sso-password-sign-in",
            if setup.password_sign_in {
                "true"
            } else {
                "false"
            },
        ),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value.to_owned()])
    .collect()
}

/// The stub provider, and the gateway set to sign people in with it (with Olga, the first
/// Owner, set up with a password).
struct World {
    idp: Idp,
    server: TestServer,
    owner: UserId,
}

impl World {
    async fn new() -> World {
        World::with(Setup::default()).await
    }

    async fn with(setup: Setup) -> World {
        // The provider listens first: its address is the issuer the gateway starts with.
        let idp = Idp::advertising(setup.algs).await;
        let mut flags = sso_flags(&idp.issuer, &setup);
        flags.extend(["--public-url".to_owned(), PUBLIC_URL.to_owned()]);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let (server, owner) = TestServer::with_owner("Olga", OWNER_EMAIL, &flags).await;
        World { idp, server, owner }
    }

    /// The browser follows "Sign in with Test IdP" from the sign-in page of `next`: it is sent
    /// to the provider and keeps the attempt in a cookie.
    async fn start(&self, next: &str) -> Started {
        let path = format!("/auth/sso/start?{}", query(&[("next", next)]));
        let res = get(&self.server, &path, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let cookies = set_cookies(&res);
        let attempt = cookies
            .iter()
            .find(|c| c.starts_with("tollgate_sso="))
            .unwrap_or_else(|| panic!("no attempt cookie in {cookies:?}"));
        for flag in ["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=600"] {
            assert!(attempt.contains(flag), "{attempt}");
        }
        Started {
            cookie: attempt.split(';').next().unwrap_or_default().to_owned(),
            auth: Authorization::read(&location(&res), &self.idp),
        }
    }

    /// The provider sends the browser back with `query`, the browser carrying `cookie`.
    async fn back(&self, query: &str, cookie: Option<&str>) -> Landing {
        let res = get(&self.server, &format!("/auth/sso/callback?{query}"), cookie).await;
        Landing::of(&res)
    }

    /// A whole sign-in from [`NEXT`]: the provider grants a code for the ID token `mint` makes
    /// for the gateway's request, and sends the browser back with it.
    async fn sign_in_minting(&self, mint: impl FnOnce(&Authorization) -> String) -> Landing {
        let started = self.start(NEXT).await;
        let code = self.idp.grant(&started.auth, mint(&started.auth));
        self.back(&started.with_code(&code), Some(&started.cookie))
            .await
    }

    /// A whole sign-in with a good ID token for `subject` with `email`, after `tweak`.
    async fn sign_in_as(
        &self,
        subject: &str,
        email: &str,
        tweak: impl FnOnce(&mut Claims),
    ) -> Landing {
        self.sign_in_minting(|auth| {
            let mut claims = Claims::good(&self.idp, auth, subject, email);
            tweak(&mut claims);
            claims.signed()
        })
        .await
    }

    /// Who `session` signs in, as the `current_user` server function says.
    async fn me(&self, session: &str) -> SessionUser {
        let (status, body, _) = self.server.post("current_user", "", Some(session)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Accounts on the gateway, in any state.
    async fn users(&self) -> u64 {
        user::Entity::find().count(&self.server.db).await.unwrap()
    }

    /// Sessions ever started and not yet removed.
    async fn sessions(&self) -> u64 {
        session_row::Entity::find()
            .count(&self.server.db)
            .await
            .unwrap()
    }

    async fn finish(self) {
        self.server.finish().await;
    }
}

/// A sign-in the browser began.
struct Started {
    /// `tollgate_sso=…`, as the browser sends it back.
    cookie: String,
    auth: Authorization,
}

impl Started {
    /// The query the provider sends the browser back with, for `code`.
    fn with_code(&self, code: &str) -> String {
        query(&[("code", code), ("state", self.auth.state.as_str())])
    }
}

/// Where the browser lands when the provider sends it back.
#[derive(Debug)]
struct Landing {
    location: String,
    /// `tollgate_session=…`, when a session began.
    session: Option<String>,
    /// The attempt cookie was removed.
    attempt_cleared: bool,
}

impl Landing {
    #[track_caller]
    fn of(res: &Response<Body>) -> Landing {
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let cookies = set_cookies(res);
        let session = cookies
            .iter()
            .find(|c| c.starts_with("tollgate_session=") && !c.contains("Max-Age=0"));
        if let Some(cookie) = session {
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
                "{cookie}"
            );
        }
        Landing {
            location: location(res),
            session: session.map(|c| c.split(';').next().unwrap_or_default().to_owned()),
            attempt_cleared: cookies
                .iter()
                .any(|c| c.starts_with("tollgate_sso=;") && c.contains("Max-Age=0")),
        }
    }

    /// The sign-in page says why (`code`), no session began, and the attempt is gone.
    #[track_caller]
    fn assert_refused(&self, code: &str, case: &str) {
        assert_eq!(self.location, format!("/login?sso_error={code}"), "{case}");
        assert_eq!(self.session, None, "{case}: no session");
        assert!(
            self.attempt_cleared,
            "{case}: the attempt cookie is cleared"
        );
    }

    /// Signed in and landed on `next`: answers the session cookie pair.
    #[track_caller]
    fn signed_in(&self, next: &str) -> String {
        assert_eq!(self.location, next, "{self:?}");
        assert!(self.attempt_cleared, "{self:?}");
        self.session
            .clone()
            .unwrap_or_else(|| panic!("no session cookie: {self:?}"))
    }
}

/// `pairs` as a URL query.
fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Gets `path` as a browser following a link would.
async fn get(server: &TestServer, path: &str, cookie: Option<&str>) -> Response<Body> {
    let mut req = Request::get(path).header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    server.send(req.body(Body::empty()).unwrap()).await
}

#[track_caller]
fn location(res: &Response<Body>) -> String {
    res.headers()
        .get(header::LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

fn set_cookies(res: &Response<Body>) -> Vec<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

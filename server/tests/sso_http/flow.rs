//! The round trip itself: the button with single sign-on off or the provider down, the
//! provider's redirect back (only the browser that began the sign-in may finish it; a person who
//! cancels is told so), and password sign-in turned off.

use super::idp::Claims;
use super::{NEXT, OWNER_EMAIL, Setup, World, get, location, query, set_cookies, sso_flags};
use crate::support::{PASSWORD, TestServer};
use domain::Role;
use domain::service::sso::PASSWORD_OFF;
use http::StatusCode;

/// `/auth/sso/start` on `server`: answers where it redirects, and whether it left an attempt
/// cookie.
async fn start(server: &TestServer) -> (String, bool) {
    let res = get(server, "/auth/sso/start?next=%2Fdashboard%2Fkeys", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let attempt = set_cookies(&res)
        .iter()
        .any(|c| c.starts_with("tollgate_sso=") && !c.contains("Max-Age=0"));
    (location(&res), attempt)
}

/// Single sign-on is not set up, yet someone opens the button's link: they are back on the
/// sign-in page, which says single sign-on is not set up here.
#[tokio::test]
async fn with_single_sign_on_off_the_button_says_so() {
    let server = TestServer::empty(&[]).await;
    assert_eq!(
        start(&server).await,
        ("/login?sso_error=off".to_owned(), false)
    );
    server.finish().await;
}

/// The identity provider does not answer (nothing listens at its issuer): the button leads back
/// to the sign-in page, which says the provider could not be reached; nothing is kept.
#[tokio::test]
async fn an_unreachable_provider_is_said_so() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let flags = sso_flags(&issuer, &Setup::default());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = TestServer::empty(&flags).await;
    assert_eq!(
        start(&server).await,
        ("/login?sso_error=unreachable".to_owned(), false)
    );
    server.finish().await;
}

/// The provider's redirect back only signs in the browser that began the sign-in: without its
/// attempt cookie, with a forged one, with another sign-in's cookie or state, or with no state,
/// the sign-in page says single sign-on did not complete, and the code is never exchanged. A
/// person who cancels at the provider reads that it was cancelled; any other error from the
/// provider, or a cancellation with the wrong state, reads as not completed.
#[tokio::test]
async fn only_the_browser_that_began_the_sign_in_finishes_it() {
    let w = World::new().await;
    let mine = w.start(NEXT).await;
    let theirs = w.start(NEXT).await;
    let claims = Claims::good(&w.idp, &mine.auth, "sub-ann", "ann@example.com");
    let code = w.idp.grant(&mine.auth, claims.signed());
    let right = mine.with_code(&code);
    let cases = [
        ("no attempt cookie", right.clone(), None),
        (
            "a forged attempt cookie",
            right.clone(),
            Some("tollgate_sso=forged"),
        ),
        (
            "another sign-in's attempt cookie",
            right.clone(),
            Some(theirs.cookie.as_str()),
        ),
        (
            "another sign-in's state",
            theirs.with_code(&code),
            Some(mine.cookie.as_str()),
        ),
        (
            "no state",
            query(&[("code", code.as_str())]),
            Some(mine.cookie.as_str()),
        ),
    ];
    for (case, back, cookie) in cases {
        w.back(&back, cookie).await.assert_refused("failed", case);
    }
    assert_eq!(w.idp.exchanges(), 0, "no code was exchanged");
    assert!(w.idp.refusals().is_empty(), "{:?}", w.idp.refusals());

    let cancelled = query(&[
        ("error", "access_denied"),
        ("state", mine.auth.state.as_str()),
    ]);
    w.back(&cancelled, Some(&mine.cookie))
        .await
        .assert_refused("cancelled", "cancelled at the provider");
    let cases = [
        (
            "a cancellation with another sign-in's state",
            query(&[
                ("error", "access_denied"),
                ("state", theirs.auth.state.as_str()),
            ]),
        ),
        (
            "another error",
            query(&[
                ("error", "server_error"),
                ("state", mine.auth.state.as_str()),
            ]),
        ),
    ];
    for (case, back) in cases {
        w.back(&back, Some(&mine.cookie))
            .await
            .assert_refused("failed", case);
    }
    assert_eq!(w.idp.exchanges(), 0, "no code was exchanged");
    w.finish().await;
}

/// With password sign-in turned off, the Owner's right email and password are refused (403,
/// saying to use the single sign-on button) and no session begins; the Owner still signs in
/// with the provider, as the Owner.
#[tokio::test]
async fn with_passwords_off_only_the_provider_signs_in() {
    let w = World::with(Setup {
        password_sign_in: false,
        ..Setup::default()
    })
    .await;
    let form = format!(
        "email={OWNER_EMAIL}&password={}",
        PASSWORD.replace(' ', "+")
    );
    let (status, body, cookie) = w.server.post("sign_in", &form, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains(PASSWORD_OFF), "{body}");
    assert_eq!(cookie, None, "no session");

    let session = w
        .sign_in_as("sub-olga", OWNER_EMAIL, |_| {})
        .await
        .signed_in(NEXT);
    let me = w.me(&session).await;
    assert_eq!((me.id, me.role), (w.owner, Role::Owner));
    w.finish().await;
}

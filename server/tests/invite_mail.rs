//! Invites by email: with a mail server configured, the invite is sent over SMTP (to a real
//! SMTP server on loopback) and the link in the mail works; when the server cannot be reached,
//! the invite still stands and the inviter gets the link to pass on.

use crate::support::smtp::SmtpStub;
use crate::support::{PASSWORD, TestServer};
use http::StatusCode;
use std::time::Duration;

const PUBLIC_URL: &str = "http://gateway.test:8080";

/// The invite link in a mail's text (undoing quoted-printable soft breaks if any).
fn link_in(data: &str) -> String {
    let text = data.replace("=\r\n", "");
    let start = text
        .find(&format!("{PUBLIC_URL}/invite/"))
        .expect("an invite link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn an_emailed_invite_arrives_and_its_link_signs_the_person_up() {
    let smtp = SmtpStub::start().await;
    let (server, _) = TestServer::with_owner(
        "Ada Lovelace",
        "ada@example.com",
        &["--smtp-url", &smtp.url, "--public-url", PUBLIC_URL],
    )
    .await;
    let owner = server.sign_in("ada@example.com").await;

    let (status, body, _) = server
        .post(
            "invite_user",
            "email=Grace%40Example.com&role=admin&team=",
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(r#""delivery":"Emailed""#), "{body}");
    assert!(
        !body.contains("/invite/"),
        "an emailed link is not shown: {body}"
    );

    let mail = smtp.next_mail(Duration::from_secs(10)).await;
    assert_eq!(mail.to, vec!["Grace@Example.com".to_owned()]);
    assert_eq!(mail.from, "tollgate@gateway.test");
    assert!(
        mail.data
            .contains("Subject: Ada Lovelace invited you to Tollgate"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("as Admin."));
    let link = link_in(&mail.data);
    let path = link.strip_prefix(PUBLIC_URL).unwrap();
    assert!(path.starts_with("/invite/"), "{link}");

    let (status, page) = server.get(path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Ada Lovelace") && page.contains("Admin"),
        "{page}"
    );

    let token = path.trim_start_matches("/invite/");
    let form = format!(
        "token={token}&name=Grace+Hopper&password={}",
        PASSWORD.replace(' ', "+")
    );
    let (status, body, cookie) = server.post("accept_invite", &form, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(cookie.is_some(), "accepting signs the person in");
    server.sign_in("grace@example.com").await;

    let (status, _, _) = server.post("accept_invite", &form, None).await;
    assert!(status.is_client_error(), "the link works once: {status}");
    assert_eq!(smtp.inbox().len(), 1);
    server.finish().await;
}

#[tokio::test]
async fn an_unreachable_mail_server_still_leaves_the_invite_and_shows_the_link() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", closed.local_addr().unwrap());
    drop(closed);
    let (server, _) = TestServer::with_owner("Ada", "ada@example.com", &["--smtp-url", &url]).await;
    let owner = server.sign_in("ada@example.com").await;
    let (status, body, _) = server
        .post(
            "invite_user",
            "email=bo%40example.com&role=member&team=",
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("could not be reached"), "{body}");
    assert!(body.contains("/invite/"), "the link to pass on: {body}");
    server.finish().await;
}

#[tokio::test]
async fn bad_mail_settings_stop_start_up_with_a_message() {
    let server = TestServer::empty(&[]).await;
    for (args, says) in [
        (
            vec!["--smtp-url", "ftp://mail.example.com"],
            "TOLLGATE_SMTP_URL",
        ),
        (
            vec![
                "--smtp-url",
                "smtp://127.0.0.1:2525",
                "--smtp-from",
                "not an address",
            ],
            "TOLLGATE_SMTP_FROM",
        ),
    ] {
        let config = crate::support::config("sqlite::memory:", &args);
        let Err(err) = tollgate::serve::app_state(&config, server.db.clone()).await else {
            panic!("{args:?} should stop start-up");
        };
        assert!(err.to_string().contains(says), "{err}");
    }
    server.finish().await;
}

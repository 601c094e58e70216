//! The single sign-on page's server functions, called directly: only Owners read or change the
//! settings or run the Test; everyone else gets 403 and the settings stay as they were, and
//! nobody signed out gets past 401.

use crate::support::TestServer;
use domain::Role;
use http::StatusCode;

const FORM: &str = "issuer=https%3A%2F%2Flogin.example.com&client_id=tollgate&client_secret=s3cret\
                    &label=Okta&new_people=member&password_sign_in=on";

/// Every server function of the page, with a body it would accept from an Owner.
const CALLS: [(&str, &str); 4] = [
    ("read_sso", ""),
    ("save_sso", FORM),
    ("turn_off_sso", ""),
    ("test_sso", "issuer=https%3A%2F%2Flogin.example.com"),
];

/// An Admin, a Member and a Viewer are refused every call, and a signed-out caller is asked to
/// sign in; the Owner then finds single sign-on still off, and turns it on.
#[tokio::test]
async fn only_owners_use_the_single_sign_on_page() {
    let (server, owner) = TestServer::with_owner("Olive Owner", "owner@example.com", &[]).await;
    for (email, role) in [
        ("admin@example.com", Role::Admin),
        ("member@example.com", Role::Member),
        ("viewer@example.com", Role::Viewer),
    ] {
        let (_, cookie) = server.add_person(owner, email, role).await;
        for (call, form) in CALLS {
            let (status, body, _) = server.post(call, form, Some(&cookie)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {call}: {body}");
        }
    }
    for (call, form) in CALLS {
        let (status, _, _) = server.post(call, form, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out: {call}");
    }

    let owner_cookie = server.sign_in("owner@example.com").await;
    let (status, body, _) = server.post("read_sso", "", Some(&owner_cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"settings\":null"), "still off: {body}");
    let (status, body, _) = server.post("save_sso", FORM, Some(&owner_cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = server
        .post(
            "test_sso",
            "issuer=ftp%3A%2F%2Fx.example",
            Some(&owner_cookie),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    server.finish().await;
}

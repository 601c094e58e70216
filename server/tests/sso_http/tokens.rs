//! ID tokens the gateway must not believe, though the provider's token endpoint handed them over
//! for a good code: each lands on the sign-in page with `sso_error=failed`, no session begins
//! and no account is made — and the same person then gets in with a good token, so it was the
//! token that was refused.

use super::idp::{CLIENT_SECRET, Claims, Forge, KID, PROVIDER_PUBLIC_PEM, Tweak, other_key};
use super::{NEXT, Setup, World};
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use openidconnect::core::{CoreHmacKey, CoreJwsSigningAlgorithm};
use serde_json::json;
use sha2::Sha256;

/// HMAC-SHA256 of `input` under `key`.
fn hs256(key: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any size");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// Tokens signed by the provider whose claims do not belong to this sign-in: for another
/// client (or also for one this gateway does not trust), from another issuer (even one only a
/// trailing slash away), with another sign-in's nonce or none, or expired (five minutes ago:
/// the crate allows no clock skew at all, so this is past any). Each is refused as `failed`.
#[tokio::test]
async fn signed_tokens_that_are_not_for_this_sign_in_are_refused() {
    let w = World::new().await;
    let (people, sessions) = (w.users().await, w.sessions().await);
    let cases: [(&str, Tweak); 7] = [
        ("for another client", |c: &mut Claims| {
            c.audiences = vec!["another-client".to_owned()];
        }),
        ("also for an untrusted client", |c: &mut Claims| {
            c.audiences.push("another-client".to_owned());
        }),
        ("from another issuer", |c: &mut Claims| {
            c.issuer = "https://evil.example".to_owned();
        }),
        ("from the issuer with a trailing slash", |c: &mut Claims| {
            c.issuer.push('/');
        }),
        ("with another sign-in's nonce", |c: &mut Claims| {
            c.nonce = Some("not-this-sign-ins-nonce".to_owned());
        }),
        ("without a nonce", |c: &mut Claims| {
            c.nonce = None;
        }),
        ("expired", |c: &mut Claims| {
            c.issued = Utc::now() - Duration::minutes(10);
            c.expires = Utc::now() - Duration::minutes(5);
        }),
    ];
    for (case, tweak) in cases {
        w.sign_in_as("sub-eve", "eve@example.com", tweak)
            .await
            .assert_refused("failed", case);
        assert!(
            w.idp.refusals().is_empty(),
            "{case}: the code was good, the token was not"
        );
    }
    assert_eq!((w.users().await, w.sessions().await), (people, sessions));
    w.sign_in_as("sub-eve", "eve@example.com", |_| {})
        .await
        .signed_in(NEXT);
    w.finish().await;
}

/// Tokens the provider did not sign, though it even claims to sign with HS256 and `none`: signed
/// by a key it does not publish (under a key id it has never had — the gateway may fetch its
/// keys again, and still finds none — or under its real key id), unsigned (`alg: none`), HMACed
/// with its public key or with the client secret (the gateway takes only asymmetric
/// algorithms), or its real signature over other claims (here, the Owner's address). Each is
/// refused as `failed`.
#[tokio::test]
async fn tokens_the_provider_did_not_sign_are_refused() {
    let w = World::with(Setup {
        algs: &["RS256", "HS256", "none"],
        ..Setup::default()
    })
    .await;
    let (people, sessions) = (w.users().await, w.sessions().await);
    let cases: [(&str, Forge); 6] = [
        ("signed by an unpublished key", |c: &Claims| {
            c.signed_by(
                &other_key("retired-key"),
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            )
        }),
        (
            "signed by another key under the published key id",
            |c: &Claims| {
                c.signed_by(
                    &other_key(KID),
                    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                )
            },
        ),
        ("unsigned (alg none)", |c: &Claims| {
            c.hand_made(&json!({ "alg": "none" }), |_| Vec::new())
        }),
        (
            "HS256 keyed with the provider's public key",
            |c: &Claims| {
                c.hand_made(&json!({ "alg": "HS256", "kid": KID }), |input| {
                    hs256(PROVIDER_PUBLIC_PEM.as_bytes(), input)
                })
            },
        ),
        ("HS256 keyed with the client secret", |c: &Claims| {
            c.signed_by(
                &CoreHmacKey::new(CLIENT_SECRET),
                CoreJwsSigningAlgorithm::HmacSha256,
            )
        }),
        (
            "the provider's signature over other claims",
            |c: &Claims| {
                let genuine = c.signed();
                let mut other = c.clone();
                other.email = Some("owner@example.com".to_owned());
                let forged = other.signed();
                let (claims, _) = forged.rsplit_once('.').expect("a JWT");
                let (_, signature) = genuine.rsplit_once('.').expect("a JWT");
                format!("{claims}.{signature}")
            },
        ),
    ];
    for (case, mint) in cases {
        w.sign_in_minting(|auth| mint(&Claims::good(&w.idp, auth, "sub-eve", "eve@example.com")))
            .await
            .assert_refused("failed", case);
        assert!(
            w.idp.refusals().is_empty(),
            "{case}: the code was good, the token was not"
        );
    }
    assert_eq!((w.users().await, w.sessions().await), (people, sessions));
    w.sign_in_as("sub-eve", "eve@example.com", |_| {})
        .await
        .signed_in(NEXT);
    w.finish().await;
}

/// The provider answers the code with an ID token that is not a JWT at all. It did answer, so
/// the sign-in page should say single sign-on did not complete (`failed`), as for any token that
/// fails its checks — not that the provider could not be reached.
#[tokio::test]
async fn an_id_token_that_is_not_a_jwt_is_refused_as_failed() {
    let w = World::new().await;
    w.sign_in_minting(|_| "not-a-jwt".to_owned())
        .await
        .assert_refused("failed", "not a JWT");
    assert_eq!(w.idp.exchanges(), 1);
    w.finish().await;
}

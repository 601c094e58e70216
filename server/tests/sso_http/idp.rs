//! A stub OpenID provider on loopback: discovery (its issuer is exactly its own base URL), its
//! key set, and a token endpoint that hands out the ID token a test made for a code — but only
//! to the registered client (HTTP Basic with [`CLIENT_ID`] and [`CLIENT_SECRET`]), for the
//! redirect URI the code was granted for, with the PKCE verifier whose S256 challenge the
//! gateway sent, and once. The test plays the browser and the provider's sign-in page: it reads
//! the gateway's redirect ([`Authorization::read`]), makes the ID token ([`Claims`]) and has the
//! provider grant a code for it ([`Idp::grant`]).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use http::{HeaderMap, StatusCode, header};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AdditionalClaims, Audience, EndUserEmail, EndUserName, IdToken, IdTokenClaims, IssuerUrl,
    JsonWebKeyId, LocalizedClaim, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The client the gateway is registered as at the provider.
pub const CLIENT_ID: &str = "tollgate";
pub const CLIENT_SECRET: &str = "s3cret";
/// The id the provider publishes its signing key under.
pub const KID: &str = "tollgate-test-1";

// The keys below are TEST-ONLY: made for these tests with `openssl genrsa -traditional 2048`
// (PKCS#1, the PEM `CoreRsaPrivateSigningKey::from_pem` reads) and committed on purpose. They
// sign nothing but the ID tokens of this stub provider.
/// The provider's signing key, published in its key set under [`KID`].
const PROVIDER_KEY_PEM: &str = include_str!("../fixtures/oidc-test-key.pem");
/// Its public half (`openssl rsa -pubout`): what an attacker would use as an HMAC key.
pub const PROVIDER_PUBLIC_PEM: &str = include_str!("../fixtures/oidc-test-key.pub.pem");
/// A key the provider never publishes.
const OTHER_KEY_PEM: &str = include_str!("../fixtures/oidc-other-key.pem");

/// The provider's signing key.
pub fn provider_key() -> CoreRsaPrivateSigningKey {
    rsa_key(PROVIDER_KEY_PEM, KID)
}

/// The key the provider never publishes, naming itself `kid`.
pub fn other_key(kid: &str) -> CoreRsaPrivateSigningKey {
    rsa_key(OTHER_KEY_PEM, kid)
}

fn rsa_key(pem: &str, kid: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.to_owned())))
        .expect("a PKCS#1 RSA test key")
}

/// The running provider.
pub struct Idp {
    /// `http://127.0.0.1:PORT`, as its discovery document names it.
    pub issuer: String,
    shared: Arc<Shared>,
}

struct Shared {
    issuer: String,
    /// `id_token_signing_alg_values_supported`.
    algs: Vec<String>,
    /// The published key set.
    keys: Vec<CoreJsonWebKey>,
    /// Codes not yet exchanged.
    grants: Mutex<HashMap<String, Grant>>,
    codes: AtomicUsize,
    /// Codes exchanged for an ID token.
    exchanges: AtomicUsize,
    /// Why each refused token request was refused.
    refusals: Mutex<Vec<String>>,
}

/// What a code was granted for.
struct Grant {
    challenge: String,
    redirect_uri: String,
    id_token: String,
}

impl Idp {
    /// Listens on a free loopback port (before the gateway starts, which needs the issuer),
    /// saying it signs ID tokens with `algs`; it always signs with RS256 under [`KID`].
    pub async fn advertising(algs: &[&str]) -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let issuer = format!("http://{}", listener.local_addr().expect("its address"));
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            algs: algs.iter().map(|a| (*a).to_owned()).collect(),
            keys: vec![provider_key().as_verification_key()],
            grants: Mutex::new(HashMap::new()),
            codes: AtomicUsize::new(0),
            exchanges: AtomicUsize::new(0),
            refusals: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Idp { issuer, shared }
    }

    /// The person signed in at the provider: a one-time code for `id_token`, bound to what the
    /// gateway asked in `auth`, to send back to the gateway.
    pub fn grant(&self, auth: &Authorization, id_token: String) -> String {
        let code = format!("code-{}", self.shared.codes.fetch_add(1, Ordering::SeqCst));
        let grant = Grant {
            challenge: auth.challenge.clone(),
            redirect_uri: auth.redirect_uri.clone(),
            id_token,
        };
        self.shared
            .grants
            .lock()
            .unwrap()
            .insert(code.clone(), grant);
        code
    }

    /// How many codes were exchanged for an ID token.
    pub fn exchanges(&self) -> usize {
        self.shared.exchanges.load(Ordering::SeqCst)
    }

    /// Why each refused token request was refused.
    pub fn refusals(&self) -> Vec<String> {
        self.shared.refusals.lock().unwrap().clone()
    }
}

async fn discovery(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let base = &s.issuer;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": s.algs,
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(s): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({ "keys": s.keys }))
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    match s.exchange(&headers, &body) {
        Ok(id_token) => {
            s.exchanges.fetch_add(1, Ordering::SeqCst);
            Json(json!({
                "access_token": "at",
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }))
            .into_response()
        }
        Err(why) => {
            s.refusals.lock().unwrap().push(why.clone());
            let error = json!({ "error": "invalid_grant", "error_description": why });
            (StatusCode::BAD_REQUEST, Json(error)).into_response()
        }
    }
}

impl Shared {
    /// The ID token for the code in this token request, if the request may have it.
    fn exchange(&self, headers: &HeaderMap, body: &str) -> Result<String, String> {
        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        );
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if sent != Some(basic.as_str()) {
            return Err(format!(
                "not the registered client with client_secret_basic: {sent:?}"
            ));
        }
        if field("grant_type") != "authorization_code" {
            return Err(format!("grant_type {}", field("grant_type")));
        }
        let Some(grant) = self.grants.lock().unwrap().remove(field("code")) else {
            return Err(format!("code {} is unknown or used", field("code")));
        };
        if field("redirect_uri") != grant.redirect_uri {
            return Err(format!(
                "redirect_uri {} is not {}",
                field("redirect_uri"),
                grant.redirect_uri
            ));
        }
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier").as_bytes()));
        if challenge != grant.challenge {
            return Err("the PKCE verifier does not match the challenge".to_owned());
        }
        Ok(grant.id_token)
    }
}

/// What the gateway asked the provider for, read from its redirect to the authorization
/// endpoint.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub state: String,
    pub nonce: String,
    /// The PKCE challenge (S256).
    pub challenge: String,
    pub redirect_uri: String,
}

impl Authorization {
    /// Reads the redirect `location`, checking it is an authorization code request to `idp`
    /// from the registered client, with PKCE (S256), a state and a nonce, asking for the
    /// `openid`, `email` and `profile` scopes.
    #[track_caller]
    pub fn read(location: &str, idp: &Idp) -> Authorization {
        let url = url::Url::parse(location).unwrap_or_else(|e| panic!("{location}: {e}"));
        assert_eq!(
            &url[..url::Position::AfterPath],
            format!("{}/authorize", idp.issuer),
            "{location}"
        );
        let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let param = |name: &str| {
            params
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("no {name} in {location}"))
        };
        assert_eq!(param("response_type"), "code", "{location}");
        assert_eq!(param("client_id"), CLIENT_ID, "{location}");
        assert_eq!(param("code_challenge_method"), "S256", "{location}");
        let scope = param("scope");
        for wanted in ["openid", "email", "profile"] {
            assert!(
                scope.split(' ').any(|s| s == wanted),
                "{wanted} in {location}"
            );
        }
        let auth = Authorization {
            state: param("state"),
            nonce: param("nonce"),
            challenge: param("code_challenge"),
            redirect_uri: param("redirect_uri"),
        };
        assert!(
            !auth.state.is_empty() && !auth.nonce.is_empty() && auth.challenge.len() == 43,
            "{location}"
        );
        auth
    }
}

/// A change a test makes to a good token's claims.
pub type Tweak = fn(&mut Claims);
/// A token a test makes by hand from good claims.
pub type Forge = fn(&Claims) -> String;

/// The claims of an ID token a test makes. [`Claims::good`] is one the gateway accepts; a test
/// changes a field to make one it must not.
#[derive(Debug, Clone)]
pub struct Claims {
    pub issuer: String,
    pub audiences: Vec<String>,
    pub subject: String,
    pub expires: DateTime<Utc>,
    pub issued: DateTime<Utc>,
    pub nonce: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub name: Option<String>,
    pub groups: Option<Vec<String>>,
}

/// The claim beyond the standard ones the tests send.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Groups {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<String>>,
}

impl AdditionalClaims for Groups {}

type TestIdToken =
    IdToken<Groups, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

impl Claims {
    /// A good token answering `auth`: from `idp`, for the registered client, for five more
    /// minutes, with the sign-in's nonce and `email`, verified.
    pub fn good(idp: &Idp, auth: &Authorization, subject: &str, email: &str) -> Claims {
        let now = Utc::now();
        Claims {
            issuer: idp.issuer.clone(),
            audiences: vec![CLIENT_ID.to_owned()],
            subject: subject.to_owned(),
            expires: now + Duration::minutes(5),
            issued: now,
            nonce: Some(auth.nonce.clone()),
            email: Some(email.to_owned()),
            email_verified: Some(true),
            name: None,
            groups: None,
        }
    }

    fn id_token_claims(&self) -> IdTokenClaims<Groups, CoreGenderClaim> {
        let standard: StandardClaims<CoreGenderClaim> =
            StandardClaims::new(SubjectIdentifier::new(self.subject.clone()))
                .set_email(self.email.clone().map(EndUserEmail::new))
                .set_email_verified(self.email_verified)
                .set_name(
                    self.name
                        .clone()
                        .map(|n| LocalizedClaim::from(EndUserName::new(n))),
                );
        IdTokenClaims::new(
            IssuerUrl::new(self.issuer.clone()).expect("an issuer URL"),
            self.audiences.iter().cloned().map(Audience::new).collect(),
            self.expires,
            self.issued,
            standard,
            Groups {
                groups: self.groups.clone(),
            },
        )
        .set_nonce(self.nonce.clone().map(Nonce::new))
    }

    /// Signed as the provider signs: RS256 with its published key.
    pub fn signed(&self) -> String {
        self.signed_by(
            &provider_key(),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        )
    }

    /// Signed by `key` with `alg`, by the crate (the header names `key`'s id, if it has one).
    pub fn signed_by<K>(&self, key: &K, alg: CoreJwsSigningAlgorithm) -> String
    where
        K: PrivateSigningKey<VerificationKey = CoreJsonWebKey>,
    {
        TestIdToken::new(self.id_token_claims(), key, alg, None, None)
            .expect("a signed ID token")
            .to_string()
    }

    /// Made by hand, for the tokens the crate will not make: `header` as given, these claims as
    /// the crate writes them, and `sign`'s bytes over the two as the signature.
    pub fn hand_made(
        &self,
        header: &serde_json::Value,
        sign: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> String {
        let claims = serde_json::to_string(&self.id_token_claims()).expect("claims as JSON");
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = URL_SAFE_NO_PAD.encode(sign(input.as_bytes()));
        format!("{input}.{signature}")
    }
}

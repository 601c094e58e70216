//! The OpenID Connect relying party, on the `openidconnect` crate: discovery (kept for a while,
//! fetched again when a token names a key the provider's set does not hold), the authorization
//! URL with PKCE, `state` and `nonce`, and the code exchanged for an ID token whose signature,
//! issuer, audience, expiry and nonce the crate checks. Nothing here reads a JWT by hand.

use domain::service::sso::ClientSettings;
use domain::service::sso::sign_in::Identity;
use domain::sso::Discovery;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long discovery (with the provider's keys) is kept before it is fetched again.
const KEEP_DISCOVERY: Duration = Duration::from_secs(15 * 60);
/// A key set is fetched again for an unknown key id at most this often.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);
/// The longest a call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Every claim the ID token carries beyond the standard ones, so the groups claim the settings
/// name can be read (from the token the crate verified).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    openidconnect::EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why the provider did not give us a person.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// No answer, or not an OpenID Connect provider's (discovery, keys, token endpoint).
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    /// It answered, but what it gave failed a check (a token error, a bad ID token).
    #[error("the sign-in did not pass its checks: {0}")]
    Rejected(String),
}

/// Where to send the browser, and what must come back with it.
#[derive(Debug)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// The discovery kept for an issuer.
#[derive(Debug, Clone)]
struct Discovered {
    issuer: String,
    metadata: CoreProviderMetadata,
    at: Instant,
}

/// Talks to the identity provider: one HTTP client that follows no redirect, and the latest
/// discovery.
#[derive(Debug)]
pub struct Oidc {
    http: reqwest::Client,
    kept: Mutex<Option<Discovered>>,
    /// The issuer whose discovery last failed, and when: asked again within
    /// [`RETRY_FAILED_AFTER`], it is not fetched (nobody can make us hammer a provider that is
    /// down by clicking the button).
    failed: Mutex<Option<(String, Instant)>>,
}

/// How long a failed discovery is answered from memory.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(15);

impl Default for Oidc {
    fn default() -> Self {
        Oidc {
            http: reqwest::Client::builder()
                // Following redirects would let a provider's answer point us anywhere (SSRF).
                .redirect(reqwest::redirect::Policy::none())
                .timeout(PROVIDER_TIMEOUT)
                .build()
                .unwrap_or_default(),
            kept: Mutex::new(None),
            failed: Mutex::new(None),
        }
    }
}

impl Oidc {
    /// Fetches `issuer`'s discovery document and key set, afresh.
    async fn discover(&self, issuer: &str) -> Result<CoreProviderMetadata, OidcError> {
        let url = IssuerUrl::new(issuer.to_owned())
            .map_err(|e| OidcError::Unreachable(format!("issuer URL: {e}")))?;
        CoreProviderMetadata::discover_async(url, &self.http)
            .await
            .map_err(|e| OidcError::Unreachable(describe(&e)))
    }

    /// `issuer`'s discovery, kept for [`KEEP_DISCOVERY`]; `fresh` fetches it again unless it
    /// was fetched moments ago (so forged key ids cannot make us hammer the provider).
    async fn metadata(&self, issuer: &str, fresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        if let Some(d) = self
            .kept
            .lock()
            .await
            .as_ref()
            .filter(|d| d.issuer == issuer)
        {
            let age = d.at.elapsed();
            if (!fresh && age < KEEP_DISCOVERY) || (fresh && age < REFETCH_AT_MOST_EVERY) {
                return Ok(d.metadata.clone());
            }
        }
        if let Some((_, at)) = self
            .failed
            .lock()
            .await
            .as_ref()
            .filter(|(i, _)| i == issuer)
            && at.elapsed() < RETRY_FAILED_AFTER
        {
            return Err(OidcError::Unreachable(
                "discovery failed moments ago; not asked again yet".to_owned(),
            ));
        }
        // Fetched without holding the lock: a provider that hangs keeps only its own callers
        // waiting (several may fetch at once when the kept one expires; the last one is kept).
        let metadata = match self.discover(issuer).await {
            Ok(m) => m,
            Err(e) => {
                *self.failed.lock().await = Some((issuer.to_owned(), Instant::now()));
                return Err(e);
            }
        };
        *self.kept.lock().await = Some(Discovered {
            issuer: issuer.to_owned(),
            metadata: metadata.clone(),
            at: Instant::now(),
        });
        Ok(metadata)
    }

    fn client(
        metadata: CoreProviderMetadata,
        settings: &ClientSettings,
        redirect_uri: &str,
    ) -> Result<OidcClient, OidcError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| OidcError::Rejected(format!("redirect URI: {e}")))?;
        Ok(OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.settings.client_id.clone()),
            settings
                .secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the browser to sign in.
    ///
    /// # Errors
    /// [`OidcError::Unreachable`] when discovery fails.
    pub async fn authorize(
        &self,
        settings: &ClientSettings,
        redirect_uri: &str,
    ) -> Result<Authorization, OidcError> {
        let metadata = self.metadata(&settings.settings.issuer, false).await?;
        let client = Self::client(metadata, settings, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` (with the PKCE `verifier`) for an ID token, checks it against `nonce`,
    /// and says who signed in.
    ///
    /// # Errors
    /// [`OidcError::Unreachable`] when the provider cannot be reached; [`OidcError::Rejected`]
    /// for a token endpoint error or an ID token that fails a check.
    pub async fn identify(
        &self,
        settings: &ClientSettings,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Identity, OidcError> {
        let issuer = &settings.settings.issuer;
        let metadata = self.metadata(issuer, false).await?;
        let client = Self::client(metadata.clone(), settings, redirect_uri)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unreachable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    OidcError::Rejected(format!("token endpoint: {}", r.error()))
                }
                // It answered, with something that is not a token response (or an ID token
                // that does not parse): not a reachability problem.
                openidconnect::RequestTokenError::Parse(e, _) => {
                    OidcError::Rejected(format!("token endpoint answer: {e}"))
                }
                other => OidcError::Unreachable(format!("token endpoint: {}", describe(&other))),
            })?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| OidcError::Rejected("no ID token in the answer".to_owned()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let checked = {
            let verifier = verifier_of(&client, &metadata);
            id_token.claims(&verifier, &nonce).cloned()
        };
        let claims = match checked {
            Ok(claims) => claims,
            // A key the set we hold does not have: the provider may have rotated its keys.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                let metadata = self.metadata(issuer, true).await?;
                let client = Self::client(metadata.clone(), settings, redirect_uri)?;
                let verifier = verifier_of(&client, &metadata);
                id_token
                    .claims(&verifier, &nonce)
                    .cloned()
                    .map_err(|e| OidcError::Rejected(format!("ID token: {e}")))?
            }
            Err(e) => return Err(OidcError::Rejected(format!("ID token: {e}"))),
        };
        let groups = settings
            .settings
            .groups_claim
            .as_deref()
            .and_then(|name| claims.additional_claims().claims.get(name))
            .map(strings)
            .unwrap_or_default();
        Ok(Identity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            // Microsoft Entra ID sends no `email_verified`; its optional `xms_edov` claim says
            // the same (the email's domain is verified by the tenant). Only Microsoft's: any
            // other provider could let people set a claim of that name themselves.
            email_verified: claims.email_verified() == Some(true)
                || (microsoft(issuer)
                    && claims.additional_claims().claims.get("xms_edov")
                        == Some(&serde_json::Value::Bool(true))),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            groups,
        })
    }

    /// What the Test button shows: discovery afresh, and the key set it points at.
    ///
    /// # Errors
    /// [`OidcError::Unreachable`], with the reason in words.
    pub async fn test(&self, issuer: &str) -> Result<Discovery, OidcError> {
        let m = self.discover(issuer).await?;
        Ok(Discovery {
            issuer: m.issuer().to_string(),
            authorization_endpoint: m.authorization_endpoint().to_string(),
            token_endpoint: m.token_endpoint().map(|u| u.to_string()),
            userinfo_endpoint: m.userinfo_endpoint().map(|u| u.to_string()),
            keys: m.jwks().keys().len(),
            signing_algorithms: m
                .id_token_signing_alg_values_supported()
                .iter()
                .map(alg_name)
                .collect(),
            scopes: m
                .scopes_supported()
                .map(|s| s.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            claims: m
                .claims_supported()
                .map(|c| c.iter().map(|c| c.to_string()).collect())
                .unwrap_or_default(),
        })
    }
}

/// The ID token checks, accepting only the asymmetric algorithms the provider names (RS256
/// when it names none): never `none`, and never an HMAC, whose key a token could choose.
fn verifier_of<'a>(
    client: &'a OidcClient,
    metadata: &CoreProviderMetadata,
) -> openidconnect::IdTokenVerifier<'a, CoreJsonWebKey> {
    let mut allowed: Vec<CoreJwsSigningAlgorithm> = metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| asymmetric(a))
        .cloned()
        .collect();
    if allowed.is_empty() {
        allowed.push(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256);
    }
    client.id_token_verifier().set_allowed_algs(allowed)
}

/// An algorithm's name as the standard writes it (`RS256`).
fn alg_name(alg: &CoreJwsSigningAlgorithm) -> String {
    serde_json::to_value(alg)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn asymmetric(alg: &CoreJwsSigningAlgorithm) -> bool {
    use CoreJwsSigningAlgorithm as A;
    matches!(
        alg,
        A::RsaSsaPkcs1V15Sha256
            | A::RsaSsaPkcs1V15Sha384
            | A::RsaSsaPkcs1V15Sha512
            | A::RsaSsaPssSha256
            | A::RsaSsaPssSha384
            | A::RsaSsaPssSha512
            | A::EcdsaP256Sha256
            | A::EcdsaP384Sha384
            | A::EcdsaP521Sha512
            | A::EdDsa
    )
}

/// Whether `issuer` is Microsoft Entra ID's.
fn microsoft(issuer: &str) -> bool {
    url::Url::parse(issuer).is_ok_and(|u| u.host_str() == Some("login.microsoftonline.com"))
}

/// A claim's value as a list of strings: an array of strings, or one string.
fn strings(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// An error and its causes, in one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

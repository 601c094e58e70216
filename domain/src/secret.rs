//! Secrets: random tokens, their hashes, and password hashing. A [`Secret`] cannot be serialised
//! or printed by accident; only its hash is ever stored.

use crate::Error;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// A secret value (session token, invite token, password). No `Serialize`, no `Display`;
/// `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// 256 random bits, URL-safe base64.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Secret(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret itself, for the one place that must hand it over (a cookie, a link).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the secret, hex-encoded: what the database stores and looks up.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Hashes a password with argon2id and a random salt, off the async threads.
///
/// # Errors
/// [`Error::Internal`] if hashing fails or the blocking task is lost.
pub async fn hash_password(password: &Secret) -> Result<String, Error> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|_| Error::internal())?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| Error::internal())
    })
    .await
    .map_err(|_| Error::internal())?
}

/// Checks `password` against a stored argon2 hash. With no hash (unknown or invited user) it
/// still spends the same work on a fixed hash, so timing does not reveal who exists.
pub async fn verify_password(stored: Option<String>, password: &Secret) -> bool {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (DUMMY_HASH.to_owned(), false),
        };
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

/// An argon2id hash of a random string nobody knows, with the default parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xt9uJ2tXxbLqS8c5z2bUZ5mDqCqH0iKQ8YfNq3bJr1E";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let (a, b) = (Secret::random(), Secret::random());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert_eq!(a.digest().len(), 64);
        assert_eq!(format!("{a:?}"), "Secret(…)");
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let pw = Secret::new("correct horse battery");
        let hash = hash_password(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(hash.clone()), &pw).await);
        assert!(!verify_password(Some(hash), &Secret::new("wrong horse battery")).await);
        assert!(!verify_password(None, &pw).await);
    }
}

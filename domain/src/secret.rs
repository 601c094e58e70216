//! Secrets: random tokens, their hashes, and password hashing. A [`Secret`] cannot be serialised
//! or printed by accident; only its hash is ever stored.
//!
//! Hashing or checking a password takes argon2id's 19 MiB and a core for tens of milliseconds,
//! so the process does at most one per core at a time (setup, invite acceptance and sign-in
//! alike): anyone can ask for a sign-in, and unbounded hashing would let them exhaust memory
//! and CPU. A request that finds every permit taken waits briefly, then is answered
//! [`Error::RateLimited`] without hashing.

use crate::Error;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// How many passwords this process hashes or checks at once: one per core.
static HASHING_PERMITS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get));
static HASHING: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(*HASHING_PERMITS)));
/// How long a request waits for a hashing permit before it is turned away: long enough for a
/// few people signing in at the same moment to queue, short enough that a flood is refused.
const PERMIT_WAIT: Duration = Duration::from_secs(1);
static VERIFICATIONS_STARTED: AtomicU64 = AtomicU64::new(0);

/// How many passwords this process hashes or checks at once (the number of cores).
pub fn hashing_permits() -> usize {
    *HASHING_PERMITS
}

/// How many password checks this process has started (for tests and metrics).
pub fn verifications_started() -> u64 {
    VERIFICATIONS_STARTED.load(Ordering::Relaxed)
}

/// A permit to hash one password, held until the hashing thread is done with it.
async fn hashing_permit() -> Result<OwnedSemaphorePermit, Error> {
    match tokio::time::timeout(PERMIT_WAIT, HASHING.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        // The semaphore is never closed.
        Ok(Err(_)) => Err(Error::internal()),
        Err(_) => Err(Error::RateLimited {
            retry_after_secs: 1,
        }),
    }
}

/// Hashes a password with argon2id and a random salt, off the async threads.
///
/// # Errors
/// [`Error::RateLimited`] when every hashing permit stays taken for [`PERMIT_WAIT`];
/// [`Error::Internal`] if hashing fails or the blocking task is lost.
pub async fn hash_password(password: &Secret) -> Result<String, Error> {
    let permit = hashing_permit().await?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        // Released when the hash is done, even if the caller has gone.
        let _permit = permit;
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
///
/// # Errors
/// [`Error::RateLimited`] when every hashing permit stays taken for [`PERMIT_WAIT`] (nothing
/// is checked); [`Error::Internal`] if the blocking task is lost.
pub async fn verify_password(stored: Option<String>, password: &Secret) -> Result<bool, Error> {
    let permit = hashing_permit().await?;
    VERIFICATIONS_STARTED.fetch_add(1, Ordering::Relaxed);
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
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
    .map_err(|_| Error::internal())
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

    /// The tests that hash take turns: one of them holds every hashing permit for a while.
    static HASHING_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let _turn = HASHING_TESTS.lock().await;
        let pw = Secret::new("correct horse battery");
        let hash = hash_password(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(hash.clone()), &pw).await.unwrap());
        assert!(
            !verify_password(Some(hash), &Secret::new("wrong horse battery"))
                .await
                .unwrap()
        );
        assert!(!verify_password(None, &pw).await.unwrap());
    }

    #[tokio::test]
    async fn hashing_is_bounded_and_a_flood_is_turned_away_without_hashing() {
        let _turn = HASHING_TESTS.lock().await;
        // Hold every permit, as a flood of checks would.
        let held = HASHING
            .clone()
            .acquire_many_owned(u32::try_from(hashing_permits()).unwrap())
            .await
            .unwrap();
        let before = verifications_started();
        let pw = Secret::new("correct horse battery");
        assert_eq!(
            verify_password(None, &pw).await,
            Err(Error::RateLimited {
                retry_after_secs: 1
            })
        );
        assert_eq!(
            hash_password(&pw).await,
            Err(Error::RateLimited {
                retry_after_secs: 1
            })
        );
        assert_eq!(verifications_started(), before, "nothing was checked");
        drop(held);
        assert!(hash_password(&pw).await.is_ok());
    }
}

//! Remembered key checks for the gateway: a key found usable is answered from memory until the
//! process's [`AccessWatch`] version moves — which every change that could refuse it makes
//! happen — so a revocation or suspension still applies to the next request without a database
//! round trip per request.

use crate::secret::Secret;
use crate::service::access_epoch::AccessWatch;
use crate::service::keys::{self, KeyAuth, KeyOwner, KeyRefused};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;

/// Keys remembered at most; past it the memory starts again (a gateway with more keys in
/// active use than this pays the full check more often).
const MOST_KEYS: usize = 100_000;

/// What was remembered, and at which version of the access watch.
#[derive(Debug)]
pub struct KeyCache {
    watch: Arc<AccessWatch>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    version: u64,
    /// By the key's digest.
    usable: HashMap<String, KeyAuth>,
}

/// A key check's answer, and whether access changed since the last one (what depends on the
/// old state — budget slices taken under an old limit — must be given back).
#[derive(Debug)]
pub struct Checked {
    pub answer: Result<KeyAuth, KeyRefused>,
    /// Whose key it is, when it exists but was refused.
    pub refused_owner: Option<KeyOwner>,
    pub access_changed: bool,
}

impl KeyCache {
    /// Remembers keys for as long as `watch` stands still.
    pub fn new(watch: Arc<AccessWatch>) -> Self {
        KeyCache {
            watch,
            state: Mutex::default(),
        }
    }

    /// [`keys::authenticate`], from memory when nothing has changed since.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        presented: &Secret,
        now: DateTime<Utc>,
    ) -> Checked {
        let version = self.watch.version();
        let digest = presented.digest();
        let access_changed = {
            let mut state = self.lock();
            let moved = state.version != version;
            if moved {
                state.usable.clear();
                state.version = version;
            }
            if let Some(auth) = state.usable.get(&digest)
                && auth.expires_at.is_none_or(|at| now < at)
            {
                return Checked {
                    answer: Ok(auth.clone()),
                    refused_owner: None,
                    access_changed: moved,
                };
            }
            moved
        };
        let (answer, refused_owner) = keys::authenticate_known(db, presented).await;
        if let Ok(auth) = &answer {
            let mut state = self.lock();
            // Only under the version it was read at: a change since then is not missed.
            if state.version == version && self.watch.version() == version {
                if state.usable.len() >= MOST_KEYS {
                    state.usable.clear();
                }
                state.usable.insert(digest, auth.clone());
            }
        }
        Checked {
            answer,
            refused_owner,
            access_changed,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

//! Remembered key checks for the gateway: a key found usable is answered from memory until the
//! access epoch moves ([`access_epoch`]) — which every change that could refuse it makes happen
//! — so a revocation or suspension still applies to the very next request, in every process
//! sharing the database, at the cost of one one-row read instead of a three-table join.

use crate::secret::Secret;
use crate::service::access_epoch;
use crate::service::keys::{self, KeyAuth, KeyRefused};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::Mutex;

/// Keys remembered at most; past it the memory starts again (a gateway with more keys in
/// active use than this pays the full check more often).
const MOST_KEYS: usize = 100_000;

/// What was remembered, and at which epoch.
#[derive(Debug, Default)]
pub struct KeyCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    epoch: Option<i64>,
    /// By the key's digest.
    usable: HashMap<String, KeyAuth>,
}

/// A key check's answer, and whether the epoch moved since the last one (what depends on the
/// old one — budget slices taken under an old limit — must be given back).
#[derive(Debug)]
pub struct Checked {
    pub answer: Result<KeyAuth, KeyRefused>,
    pub epoch_moved: bool,
}

impl KeyCache {
    /// [`keys::authenticate`], from memory when nothing has changed since.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        presented: &Secret,
        now: DateTime<Utc>,
    ) -> Checked {
        let epoch = match access_epoch::current(db).await {
            Ok(epoch) => epoch,
            Err(_) => {
                return Checked {
                    answer: Err(KeyRefused::Unavailable),
                    epoch_moved: false,
                };
            }
        };
        let digest = presented.digest();
        let epoch_moved = {
            let mut state = self.lock();
            let moved = state.epoch.is_some_and(|seen| seen != epoch);
            if state.epoch != Some(epoch) {
                state.usable.clear();
                state.epoch = Some(epoch);
            }
            if let Some(auth) = state.usable.get(&digest)
                && auth.expires_at.is_none_or(|at| now < at)
            {
                return Checked {
                    answer: Ok(auth.clone()),
                    epoch_moved: moved,
                };
            }
            moved
        };
        let answer = keys::authenticate(db, presented).await;
        if let Ok(auth) = &answer {
            let mut state = self.lock();
            // Only under the epoch it was read at: a change since then is not missed.
            if state.epoch == Some(epoch) {
                if state.usable.len() >= MOST_KEYS {
                    state.usable.clear();
                }
                state.usable.insert(digest, auth.clone());
            }
        }
        Checked {
            answer,
            epoch_moved,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

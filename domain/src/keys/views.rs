//! What the keys list, the users page's expanded row and the issue dialog show.

use crate::{KeyId, TeamId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether a key can be used now. Revoked wins over expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Revoked,
    Expired,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 3] = [KeyStatus::Active, KeyStatus::Revoked, KeyStatus::Expired];

    /// The one rule for a key's status, used by the lists and by key authentication.
    pub fn of(
        revoked_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        if revoked_at.is_some() {
            KeyStatus::Revoked
        } else if expires_at.is_some_and(|at| at <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Revoked => "Revoked",
            KeyStatus::Expired => "Expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        KeyStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One key in a list: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: KeyId,
    pub name: String,
    /// `tg_` and the first characters of the secret.
    pub prefix: String,
    /// The owner's id and email; `None` once the owner was deleted.
    pub owner: Option<(UserId, String)>,
    pub team: Option<(TeamId, String)>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub status: KeyStatus,
}

/// One page of keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPage {
    pub rows: Vec<KeyRow>,
    pub matching: u64,
    pub page: u64,
    pub pages: u64,
    /// When the server read this page ("3 min ago" is measured from it).
    pub generated_at: DateTime<Utc>,
}

/// A key just issued: its row, and the secret — shown this once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedKey {
    pub key: KeyRow,
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::KeyStatus;
    use chrono::{Duration, Utc};

    #[test]
    fn revoked_wins_then_expiry_decides() {
        let now = Utc::now();
        let past = Some(now - Duration::seconds(1));
        let future = Some(now + Duration::days(1));
        assert_eq!(KeyStatus::of(None, None, now), KeyStatus::Active);
        assert_eq!(KeyStatus::of(None, future, now), KeyStatus::Active);
        assert_eq!(KeyStatus::of(None, past, now), KeyStatus::Expired);
        assert_eq!(KeyStatus::of(None, Some(now), now), KeyStatus::Expired);
        assert_eq!(KeyStatus::of(past, future, now), KeyStatus::Revoked);
        assert_eq!(KeyStatus::of(past, past, now), KeyStatus::Revoked);
    }
}

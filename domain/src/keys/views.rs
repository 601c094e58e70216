//! What the keys list, the users page's expanded row and the issue dialog show.

use crate::permission::{Action, Actor, Denied};
use crate::{KeyId, Role, Status, TeamId, UserId};
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

/// Why a key that is neither revoked nor expired is still refused by the gateway: its owner's
/// role or team does not allow it (docs/architecture.md, "Who may do what": Members use keys only within their own team;
/// Viewers only read). It lasts only as long as that role or team does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyBlock {
    /// The owner is a Viewer: none of their keys work.
    OwnerIsViewer,
    /// The owner is a Member and the key is not in their current team (or they have none).
    OutsideOwnersTeam,
}

impl KeyBlock {
    /// Whether the owner — `role`, in `own_team` — may use a key of `key_team`, by the one rule
    /// in [`crate::permission`]; `None` when they may. An inactive owner is not a block of this
    /// kind (their keys are refused for that, and work again on reactivation).
    pub fn of(role: Role, own_team: Option<TeamId>, key_team: Option<TeamId>) -> Option<Self> {
        let owner = Actor {
            id: UserId(0),
            role,
            status: Status::Active,
        };
        match owner.require(Action::UseKey { own_team, key_team }) {
            Ok(()) => None,
            Err(Denied::ViewerKeys) => Some(KeyBlock::OwnerIsViewer),
            // The only other refusal of `UseKey` for an active owner.
            Err(_) => Some(KeyBlock::OutsideOwnersTeam),
        }
    }

    /// What the keys list shows in place of "active".
    pub fn label(self) -> &'static str {
        match self {
            KeyBlock::OwnerIsViewer => "blocked: owner is a Viewer",
            KeyBlock::OutsideOwnersTeam => "blocked: outside owner\u{2019}s team",
        }
    }

    /// Why, in a sentence (the label's tooltip).
    pub fn explain(self) -> &'static str {
        match self {
            KeyBlock::OwnerIsViewer => {
                "Its owner is a Viewer: Viewers are read-only, so their keys do not work."
            }
            KeyBlock::OutsideOwnersTeam => {
                "Its owner is a Member of another team or of none: Members use keys only within their own team."
            }
        }
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
    /// Set when the key is active but its owner's role or team keeps it from working.
    pub blocked: Option<KeyBlock>,
    /// Its own monthly budget, per-minute limits and the models it may call.
    pub limits: crate::rate_limits::KeyLimits,
    /// What it spent this calendar month (UTC), for its budget bar.
    pub spent_this_month: crate::money::Money,
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
    use super::{KeyBlock, KeyStatus};
    use crate::{Role, TeamId};

    #[test]
    fn a_block_follows_the_owners_role_and_team() {
        let (red, blue) = (Some(TeamId(1)), Some(TeamId(2)));
        assert_eq!(KeyBlock::of(Role::Admin, None, red), None);
        assert_eq!(KeyBlock::of(Role::Owner, blue, None), None);
        assert_eq!(KeyBlock::of(Role::Member, red, red), None);
        assert_eq!(
            KeyBlock::of(Role::Member, red, blue),
            Some(KeyBlock::OutsideOwnersTeam)
        );
        assert_eq!(
            KeyBlock::of(Role::Member, None, None),
            Some(KeyBlock::OutsideOwnersTeam)
        );
        assert_eq!(
            KeyBlock::of(Role::Viewer, red, red),
            Some(KeyBlock::OwnerIsViewer)
        );
    }
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

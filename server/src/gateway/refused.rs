//! Refusals, counted as they are answered: a bad key, a budget, a per-minute limit, a model the
//! key may not call. Counted in the ledger's memory (`domain::service::refusals`) for the Usage
//! page, with the reason the client gets; the gateway's own trouble (503) is not a refusal.

use super::GatewayState;
use super::error::ApiError;
use chrono::Utc;
use domain::entity::refusal_day::RefusalKind;
use domain::service::keys::{KeyAuth, KeyOwner};
use domain::service::refusals::Refusal;
use domain::{KeyId, TeamId, UserId};
use http::StatusCode;

/// Whose request was refused, as far as the gateway knows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Whose {
    pub key: Option<KeyId>,
    pub user: Option<UserId>,
    pub team: Option<TeamId>,
}

impl From<&KeyAuth> for Whose {
    fn from(auth: &KeyAuth) -> Self {
        Whose {
            key: Some(auth.key),
            user: Some(auth.user),
            team: auth.team,
        }
    }
}

impl From<KeyOwner> for Whose {
    fn from(owner: KeyOwner) -> Self {
        Whose {
            key: Some(owner.key),
            user: owner.user,
            team: owner.team,
        }
    }
}

/// Counts `error` as a refusal of `kind` for `whose`, and hands it back.
pub fn counted(gw: &GatewayState, whose: Whose, kind: RefusalKind, error: ApiError) -> ApiError {
    if error.status() != StatusCode::SERVICE_UNAVAILABLE {
        gw.ledger.refused(Refusal {
            key: whose.key,
            user: whose.user,
            team: whose.team,
            kind,
            reason: error.reason().to_owned(),
            at: Utc::now(),
        });
    }
    error
}

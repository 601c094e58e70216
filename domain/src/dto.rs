//! Plain data that crosses the wire between the server functions and the browser. Entities
//! never do: services map them to these.

use crate::{Role, Status, UserId};
use serde::{Deserialize, Serialize};

/// The signed-in user, as the shell shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub status: Status,
}

impl SessionUser {
    /// The permission actor for this user, so the UI asks the same question the server does.
    pub fn actor(&self) -> crate::Actor {
        crate::Actor {
            id: self.id,
            role: self.role,
            status: self.status,
        }
    }
}

/// What the invite page shows before the person accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteInfo {
    pub email: String,
    pub role: Role,
    /// The inviter's name, if they are still on the list.
    pub invited_by: Option<String>,
}

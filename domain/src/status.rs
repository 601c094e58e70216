//! A user's lifecycle: invited → active ⇄ suspended.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a user is in their lifecycle. Only `Active` users can sign in or use keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Has a pending invite, no password, cannot sign in.
    Invited,
    /// Accepted the invite.
    Active,
    /// Cannot sign in and their keys are refused, until reactivated.
    Suspended,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Active, Status::Invited, Status::Suspended];

    /// The stable name stored in the database and shown in the Status column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Invited => "invited",
            Status::Active => "active",
            Status::Suspended => "suspended",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the three status names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

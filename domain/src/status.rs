//! A user's lifecycle: invited → active ⇄ suspended.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a user is in their lifecycle. Only `Active` users can sign in or use keys.
///
/// With `ssr` it is also the type of the `users.status` column (and `user_tallies.status`),
/// stored as [`Status::as_str`]: a row holding anything else is a database error when read,
/// and nothing else can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::N(16))"
    )
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Has a pending invite, no password, cannot sign in.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "invited"))]
    Invited,
    /// Accepted the invite.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "active"))]
    Active,
    /// Cannot sign in and their keys are refused, until reactivated.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "suspended"))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stored_names_case_insensitively() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
            assert_eq!(status.as_str().to_uppercase().parse::<Status>(), Ok(status));
        }
        assert!("gone".parse::<Status>().is_err());
    }

    /// The database holds what `as_str` says: existing rows read back unchanged.
    #[cfg(feature = "ssr")]
    #[test]
    fn the_stored_value_is_the_stable_name() {
        use sea_orm::ActiveEnum;
        for status in Status::ALL {
            assert_eq!(status.to_value(), status.as_str());
            assert_eq!(
                Status::try_from_value(&status.as_str().to_owned()).ok(),
                Some(status)
            );
        }
        assert!(Status::try_from_value(&"gone".to_owned()).is_err());
    }
}

//! The four roles, ordered from most to least powerful.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role on this gateway. `Owner > Admin > Member > Viewer`.
///
/// With `ssr` it is also the type of the `users.role` column (and `user_tallies.role`,
/// `user_sort_keys.role`), stored as [`Role::as_str`]: a row holding anything else is a
/// database error when read, and nothing else can be written.
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
pub enum Role {
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "owner"))]
    Owner,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "admin"))]
    Admin,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "member"))]
    Member,
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "viewer"))]
    Viewer,
}

impl Role {
    /// Every role, most powerful first (the order of the Role dropdown).
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    /// The stable name stored in the database and used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
            Role::Viewer => "Viewer",
        }
    }

    /// Owners and Admins run the gateway; the "Admins" summary card counts both.
    pub fn is_admin_or_owner(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The text was not one of the four role names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stored_names_and_labels_case_insensitively() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.label().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    /// The database holds what `as_str` says: existing rows read back unchanged.
    #[cfg(feature = "ssr")]
    #[test]
    fn the_stored_value_is_the_stable_name() {
        use sea_orm::ActiveEnum;
        for role in Role::ALL {
            assert_eq!(role.to_value(), role.as_str());
            assert_eq!(
                Role::try_from_value(&role.as_str().to_owned()).ok(),
                Some(role)
            );
        }
        assert!(Role::try_from_value(&"root".to_owned()).is_err());
    }
}

//! Single sign-on with OpenID Connect: the settings an Owner keeps (as the form sends them and
//! as they are checked, in the browser and again in the service), who they let in and with which
//! role, and the refusals a person reads on the sign-in page.

mod settings;

pub use settings::{
    GroupRole, LABEL_MAX, SsoInput, SsoSettings, check_group_roles, check_issuer, group_lines,
};

use crate::Role;
use crate::guardrails::TeamChoice;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The settings page.
pub const PAGE_PATH: &str = "/dashboard/configuration/sso";
/// Where the identity provider sends people back to, under the gateway's public URL.
pub const CALLBACK_PATH: &str = "/auth/sso/callback";
/// Where the sign-in button goes; `?next=` carries the page to land on.
pub const START_PATH: &str = "/auth/sso/start";
/// The query parameter the sign-in page reads a refusal's code from.
pub const REFUSAL_PARAM: &str = "sso_error";

/// The one message for every failed password sign-in, so it never tells who has an account; a
/// suspended person signing in with single sign-on reads the same words.
pub const SIGN_IN_FAILED: &str = "Email or password is incorrect.";

/// What becomes of a person the gateway does not know who signs in with single sign-on.
///
/// With `ssr` it is also the type of the `sso_settings.new_people` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(
    feature = "ssr",
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::N(16))"
    )
)]
#[serde(rename_all = "lowercase")]
pub enum NewPeople {
    /// Turned away: "ask an Admin to invite you".
    #[default]
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "refuse"))]
    Refuse,
    /// Created as Viewers.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "viewer"))]
    Viewer,
    /// Created as Members.
    #[cfg_attr(feature = "ssr", sea_orm(string_value = "member"))]
    Member,
}

impl NewPeople {
    pub const ALL: [NewPeople; 3] = [NewPeople::Refuse, NewPeople::Viewer, NewPeople::Member];

    /// The form's value.
    pub fn as_str(self) -> &'static str {
        match self {
            NewPeople::Refuse => "refuse",
            NewPeople::Viewer => "viewer",
            NewPeople::Member => "member",
        }
    }

    /// What the settings form's choice reads.
    pub fn label(self) -> &'static str {
        match self {
            NewPeople::Refuse => "Refuse them (an Admin invites people first)",
            NewPeople::Viewer => "Create them as Viewers",
            NewPeople::Member => "Create them as Members",
        }
    }

    /// The role a new person is created with; `None` when they are refused.
    pub fn role(self) -> Option<Role> {
        match self {
            NewPeople::Refuse => None,
            NewPeople::Viewer => Some(Role::Viewer),
            NewPeople::Member => Some(Role::Member),
        }
    }

    fn parse(text: &str) -> Option<NewPeople> {
        NewPeople::ALL
            .into_iter()
            .find(|n| n.as_str() == text.trim())
    }
}

/// The single sign-on page, for Owners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoView {
    /// `None`: single sign-on is off.
    pub settings: Option<SsoSettings>,
    /// A client secret is stored (it is never shown again).
    pub has_secret: bool,
    /// The environment sets these settings (`TOLLGATE_SSO_*`): the page only shows them.
    pub from_env: bool,
    /// The Owner looking has signed in with this provider, which turning password sign-in off
    /// requires.
    pub signed_in_with_it: bool,
    /// What to register at the provider as the redirect URI.
    pub redirect_uri: String,
    /// The teams new people may be put in.
    pub teams: Vec<TeamChoice>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// What the sign-in page offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// "Sign in with {label}", when single sign-on is on.
    pub sso_label: Option<String>,
    /// The email and password form is shown.
    pub password: bool,
}

impl Default for SignInOptions {
    /// Single sign-on off: passwords only.
    fn default() -> Self {
        SignInOptions {
            sso_label: None,
            password: true,
        }
    }
}

/// What the Test button found at the issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    /// How many signing keys its JWKS holds.
    pub keys: usize,
    pub signing_algorithms: Vec<String>,
    pub scopes: Vec<String>,
    /// The claims it says it can put in tokens.
    pub claims: Vec<String>,
}

/// Why a single sign-on did not sign someone in, as the sign-in page says it. Only the code
/// travels in the URL; the words are always these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// Single sign-on is not set up (or was turned off meanwhile).
    Off,
    /// The email's domain is not among those allowed.
    Domain,
    /// Nobody invited them (or their invite expired or was revoked) and new people are refused.
    Unknown,
    /// Their account is suspended.
    Suspended,
    /// The provider did not say it verified the email.
    Unverified,
    /// The email's account is already tied to another identity at the provider.
    Linked,
    /// The provider could not be reached, or answered with an error.
    Unreachable,
    /// The person cancelled at the provider (or it refused them).
    Cancelled,
    /// Anything else: an expired or forged attempt, a token that failed its checks.
    Failed,
}

impl Refusal {
    const ALL: [Refusal; 9] = [
        Refusal::Off,
        Refusal::Domain,
        Refusal::Unknown,
        Refusal::Suspended,
        Refusal::Unverified,
        Refusal::Linked,
        Refusal::Unreachable,
        Refusal::Cancelled,
        Refusal::Failed,
    ];

    /// The code in the sign-in page's URL.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Off => "off",
            Refusal::Domain => "domain",
            Refusal::Unknown => "unknown",
            Refusal::Suspended => "suspended",
            Refusal::Unverified => "unverified",
            Refusal::Linked => "linked",
            Refusal::Unreachable => "unreachable",
            Refusal::Cancelled => "cancelled",
            Refusal::Failed => "failed",
        }
    }

    /// The refusal a code names; an unknown code reads as [`Refusal::Failed`].
    pub fn from_code(code: &str) -> Refusal {
        Refusal::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .unwrap_or(Refusal::Failed)
    }

    /// What the person reads.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Off => "Single sign-on is not set up on this gateway.",
            Refusal::Domain => {
                "Your email address's domain is not allowed to sign in to this gateway."
            }
            Refusal::Unknown => {
                "You do not have an account on this gateway yet: ask an Admin to invite you."
            }
            Refusal::Suspended => SIGN_IN_FAILED,
            Refusal::Unverified => {
                "Your identity provider has not verified your email address, so it cannot sign you in here."
            }
            Refusal::Linked => {
                "Your email address belongs to an account that signs in as someone else at your identity provider. Ask an Admin."
            }
            Refusal::Unreachable => {
                "Your identity provider could not be reached. Please try again in a moment."
            }
            Refusal::Cancelled => "Sign-in was cancelled.",
            Refusal::Failed => "Single sign-on did not complete. Please try again.",
        }
    }

    /// The page a refused sign-in lands on.
    pub fn login_url(self) -> String {
        format!("/login?{REFUSAL_PARAM}={}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_travels_by_its_code() {
        for r in Refusal::ALL {
            assert_eq!(Refusal::from_code(r.code()), r);
        }
        assert_eq!(Refusal::from_code("<script>"), Refusal::Failed);
    }

    #[test]
    fn a_suspended_person_reads_the_password_refusal() {
        assert_eq!(Refusal::Suspended.message(), SIGN_IN_FAILED);
    }

    #[test]
    fn new_people_get_no_role_above_member() {
        assert_eq!(NewPeople::Refuse.role(), None);
        assert_eq!(NewPeople::Viewer.role(), Some(Role::Viewer));
        assert_eq!(NewPeople::Member.role(), Some(Role::Member));
    }
}

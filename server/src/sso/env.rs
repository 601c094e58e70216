//! Single sign-on as configuration: `TOLLGATE_SSO_*` (or the matching flags) set what the page
//! would, checked by the same rules; the page then shows them read-only. Applied at every start;
//! when they are removed, the settings they made are removed too.

use clap::Args;
use domain::db::DatabaseConnection;
use domain::sealing::Sealer;
use domain::secret::Secret;
use domain::sso::SsoInput;

/// The `TOLLGATE_SSO_*` settings. Unset issuer: the environment sets no single sign-on.
#[derive(Debug, Clone, Default, Args)]
pub struct SsoEnv {
    /// The identity provider's issuer URL; setting it makes the environment own single sign-on.
    #[arg(long = "sso-issuer", env = "TOLLGATE_SSO_ISSUER")]
    pub issuer: Option<String>,
    /// The client id registered at the provider.
    #[arg(
        long = "sso-client-id",
        env = "TOLLGATE_SSO_CLIENT_ID",
        default_value = ""
    )]
    pub client_id: String,
    /// The client secret (none: a public client, PKCE alone).
    #[arg(
        long = "sso-client-secret",
        env = "TOLLGATE_SSO_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// The button's label: "Sign in with {label}".
    #[arg(
        long = "sso-label",
        env = "TOLLGATE_SSO_LABEL",
        default_value = "single sign-on"
    )]
    pub label: String,
    /// Email domains let in, comma-separated; empty lets every domain in.
    #[arg(
        long = "sso-allowed-domains",
        env = "TOLLGATE_SSO_ALLOWED_DOMAINS",
        default_value = ""
    )]
    pub allowed_domains: String,
    /// `refuse`, `viewer` or `member`: what becomes of someone nobody invited.
    #[arg(
        long = "sso-new-people",
        env = "TOLLGATE_SSO_NEW_PEOPLE",
        default_value = "refuse"
    )]
    pub new_people: String,
    /// The team new people join, by name.
    #[arg(long = "sso-new-people-team", env = "TOLLGATE_SSO_NEW_PEOPLE_TEAM")]
    pub new_people_team: Option<String>,
    /// The ID token claim listing a person's groups.
    #[arg(
        long = "sso-groups-claim",
        env = "TOLLGATE_SSO_GROUPS_CLAIM",
        default_value = ""
    )]
    pub groups_claim: String,
    /// `group=Role` pairs, comma-separated (Admin, Member or Viewer).
    #[arg(
        long = "sso-group-roles",
        env = "TOLLGATE_SSO_GROUP_ROLES",
        default_value = ""
    )]
    pub group_roles: String,
    /// Whether email and password still sign in.
    #[arg(
        long = "sso-password-sign-in",
        env = "TOLLGATE_SSO_PASSWORD_SIGN_IN",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub password_sign_in: bool,
}

/// Why the environment's settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SsoEnvError {
    #[error("TOLLGATE_SSO_*: {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("TOLLGATE_SSO_NEW_PEOPLE_TEAM: there is no team named ‘{0}’")]
    UnknownTeam(String),
    #[error("single sign-on settings: {0}")]
    Database(domain::Error),
}

impl SsoEnv {
    /// Stores these settings (or removes those an earlier start stored, when none are set).
    ///
    /// # Errors
    /// [`SsoEnvError`] for a setting the page would refuse, or a database failure.
    pub async fn apply(&self, db: &DatabaseConnection, sealer: &Sealer) -> Result<(), SsoEnvError> {
        let Some(issuer) = &self.issuer else {
            return domain::service::sso::apply_env(db, None, sealer)
                .await
                .map_err(SsoEnvError::Database);
        };
        let team = match self.new_people_team.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => {
                let id = domain::service::team_scope::id_by_name(db, name)
                    .await
                    .map_err(SsoEnvError::Database)?
                    .ok_or_else(|| SsoEnvError::UnknownTeam(name.to_owned()))?;
                id.to_string()
            }
            _ => String::new(),
        };
        let input = SsoInput {
            issuer: issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: String::new(),
            label: self.label.clone(),
            allowed_domains: self.allowed_domains.clone(),
            new_people: self.new_people.clone(),
            new_people_team: team,
            groups_claim: self.groups_claim.clone(),
            group_roles: self.group_roles.replace(',', "\n"),
            password_sign_in: self.password_sign_in,
        };
        let settings = input.check().map_err(|e| match e {
            domain::Error::Validation { field, message } => SsoEnvError::Invalid { field, message },
            other => SsoEnvError::Database(other),
        })?;
        // As the page would take it: trimmed (a secret read from a file ends with a newline).
        let secret = match self.client_secret.as_deref().map(str::trim) {
            Some(s) if s.chars().any(char::is_control) || s.len() > 1_000 => {
                return Err(SsoEnvError::Invalid {
                    field: "client_secret".to_owned(),
                    message: "That is not a client secret.".to_owned(),
                });
            }
            Some(s) if !s.is_empty() => Some(Secret::new(s.to_owned())),
            _ => None,
        };
        domain::service::sso::apply_env(db, Some((&settings, secret.as_ref())), sealer)
            .await
            .map_err(SsoEnvError::Database)
    }
}

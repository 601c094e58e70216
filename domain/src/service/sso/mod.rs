//! Single sign-on's settings: what Owners read and save on the page (or the environment sets),
//! what the sign-in page offers, and whether passwords still sign anyone in. Signing a person in
//! once their provider has vouched for them is [`sign_in`].

pub mod sign_in;

use crate::entity::{sso_setting, team, user};
use crate::permission::{Action, Actor};
use crate::sealing::{Purpose, Sealer};
use crate::secret::Secret;
use crate::service::{audit, begin_as, team_scope};
use crate::sso::{
    CALLBACK_PATH, NewPeople, SignInOptions, SsoInput, SsoSettings, SsoView, check_group_roles,
    check_issuer, group_lines,
};
use crate::{Error, TeamId};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

/// What a password sign-in is told while passwords are turned off.
pub const PASSWORD_OFF: &str =
    "Password sign-in is turned off on this gateway: use the single sign-on button.";

/// The context the client secret is sealed in.
const SEAL_CONTEXT: &str = "sso";

/// The settings the sign-in path works with, the client secret opened.
#[derive(Debug)]
pub struct ClientSettings {
    pub settings: SsoSettings,
    pub secret: Option<Secret>,
}

async fn stored(conn: &impl ConnectionTrait) -> Result<Option<sso_setting::Model>, Error> {
    Ok(sso_setting::Entity::find_by_id(sso_setting::ROW)
        .one(conn)
        .await?)
}

fn settings_of(row: &sso_setting::Model) -> SsoSettings {
    // Written by `write` from checked settings, so it parses; a hand-edited row loses its
    // mapping rather than granting anything.
    let roles = check_group_roles(&row.group_roles).unwrap_or_default();
    SsoSettings {
        issuer: row.issuer.clone(),
        client_id: row.client_id.clone(),
        label: row.label.clone(),
        allowed_domains: row.allowed_domains.lines().map(str::to_owned).collect(),
        new_people: row.new_people,
        new_people_team: row.new_people_team_id.map(TeamId),
        groups_claim: row.groups_claim.clone(),
        group_roles: roles,
        password_sign_in: row.password_sign_in,
    }
}

/// The single sign-on page.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner; [`Error::Internal`] on database failure.
pub async fn view(
    db: &DatabaseConnection,
    actor: &Actor,
    public_url: &str,
) -> Result<SsoView, Error> {
    actor.require(Action::ManageSso)?;
    let row = stored(db).await?;
    let me = user::Entity::find_by_id(actor.id.0).one(db).await?;
    let settings = row.as_ref().map(settings_of);
    Ok(SsoView {
        signed_in_with_it: linked_to(me.as_ref(), settings.as_ref()),
        has_secret: row
            .as_ref()
            .is_some_and(|r| r.client_secret_sealed.is_some()),
        from_env: row.as_ref().is_some_and(|r| r.from_env),
        updated_at: row.as_ref().map(|r| r.updated_at),
        settings,
        redirect_uri: format!("{public_url}{CALLBACK_PATH}"),
        teams: team_scope::choices(db).await?,
    })
}

/// Whether `me` has signed in with the provider `settings` name.
fn linked_to(me: Option<&user::Model>, settings: Option<&SsoSettings>) -> bool {
    match (me, settings) {
        (Some(me), Some(s)) => {
            me.sso_subject.is_some() && me.sso_issuer.as_deref() == Some(s.issuer.as_str())
        }
        _ => false,
    }
}

/// Saves the settings (a blank secret keeps the stored one). Password sign-in may be turned off
/// only by an Owner who has signed in with this provider, so it cannot lock everyone out.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner, or while the environment sets them;
/// [`Error::Validation`] naming the field that cannot be used (nothing is saved);
/// [`Error::Internal`] on database failure.
pub async fn save(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &SsoInput,
    sealer: &Sealer,
) -> Result<SsoSettings, Error> {
    actor.require(Action::ManageSso)?;
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ManageSso)?;
    let row = stored(&txn).await?;
    if row.as_ref().is_some_and(|r| r.from_env) {
        return Err(from_env());
    }
    let settings = input.check()?;
    if let Some(team) = settings.new_people_team
        && team::Entity::find_by_id(team.0).one(&txn).await?.is_none()
    {
        return Err(Error::validation(
            "new_people_team",
            "That team no longer exists: reload and choose again.",
        ));
    }
    if !settings.password_sign_in {
        let me = user::Entity::find_by_id(actor.id.0).one(&txn).await?;
        if !linked_to(me.as_ref(), Some(&settings)) {
            return Err(Error::validation(
                "password_sign_in",
                format!(
                    "Sign in with {} yourself first, so nobody is locked out when passwords stop working.",
                    settings.label
                ),
            ));
        }
    }
    let secret = match (input.client_secret.trim(), &row) {
        ("", Some(r)) => r.client_secret_sealed.clone(),
        ("", None) => None,
        (typed, _) => Some(sealer.seal(Purpose::SsoClientSecret, SEAL_CONTEXT, typed)),
    };
    let detail = describe(row.as_ref().map(settings_of).as_ref(), &settings, input);
    write(&txn, &settings, secret, false).await?;
    audit::record_by(&txn, &actor, "sso.settings", "sso", &detail).await?;
    txn.commit().await?;
    Ok(settings)
}

/// The issuer an Owner asked the Test button to run discovery at, checked like the form's.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner; [`Error::Validation`] on `issuer`.
pub fn issuer_to_test(actor: &Actor, issuer: &str) -> Result<String, Error> {
    actor.require(Action::ManageSso)?;
    check_issuer(issuer)
}

/// Turns single sign-on off; passwords sign in again.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an Owner, or while the environment sets it;
/// [`Error::NotFound`] when it is already off; [`Error::Internal`] on database failure.
pub async fn turn_off(db: &DatabaseConnection, actor: &Actor) -> Result<(), Error> {
    actor.require(Action::ManageSso)?;
    let (txn, actor) = begin_as(db, actor).await?;
    actor.require(Action::ManageSso)?;
    let Some(row) = stored(&txn).await? else {
        return Err(Error::NotFound("Single sign-on is already off.".to_owned()));
    };
    if row.from_env {
        return Err(from_env());
    }
    sso_setting::Entity::delete_by_id(sso_setting::ROW)
        .exec(&txn)
        .await?;
    audit::record_by(&txn, &actor, "sso.off", "sso", &row.issuer).await?;
    txn.commit().await?;
    Ok(())
}

/// Makes the stored settings those of the environment (`settings: None`: it sets none, and
/// settings it set before are removed). Settings an Owner saved on the page are replaced.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn apply_env(
    db: &DatabaseConnection,
    settings: Option<(&SsoSettings, Option<&Secret>)>,
    sealer: &Sealer,
) -> Result<(), Error> {
    let txn = crate::db::begin_access_write(db).await?;
    let row = stored(&txn).await?;
    let system = audit::By {
        id: None,
        email: "environment",
    };
    match settings {
        Some((settings, secret)) => {
            let same_secret = |r: &sso_setting::Model| {
                let before = r
                    .client_secret_sealed
                    .as_deref()
                    .and_then(|s| sealer.open(Purpose::SsoClientSecret, SEAL_CONTEXT, s).ok());
                before.map(|o| o.secret.expose().to_owned())
                    == secret.map(|s| s.expose().to_owned())
            };
            let unchanged = row
                .as_ref()
                .is_some_and(|r| r.from_env && settings_of(r) == *settings && same_secret(r));
            let sealed =
                secret.map(|s| sealer.seal(Purpose::SsoClientSecret, SEAL_CONTEXT, s.expose()));
            write(&txn, settings, sealed, true).await?;
            if !unchanged {
                audit::record(&txn, system, "sso.env", "sso", &settings.issuer).await?;
            }
        }
        None if row.as_ref().is_some_and(|r| r.from_env) => {
            sso_setting::Entity::delete_by_id(sso_setting::ROW)
                .exec(&txn)
                .await?;
            audit::record(
                &txn,
                system,
                "sso.off",
                "sso",
                "no longer set by the environment",
            )
            .await?;
        }
        None => {}
    }
    txn.commit().await?;
    Ok(())
}

async fn write(
    conn: &impl ConnectionTrait,
    settings: &SsoSettings,
    secret: Option<String>,
    from_env: bool,
) -> Result<(), Error> {
    let row = sso_setting::ActiveModel {
        id: Set(sso_setting::ROW),
        issuer: Set(settings.issuer.clone()),
        client_id: Set(settings.client_id.clone()),
        client_secret_sealed: Set(secret),
        label: Set(settings.label.clone()),
        allowed_domains: Set(settings.allowed_domains.join("\n")),
        new_people: Set(settings.new_people),
        new_people_team_id: Set(settings
            .new_people_team
            .filter(|_| settings.new_people != NewPeople::Refuse)
            .map(|t| t.0)),
        groups_claim: Set(settings.groups_claim.clone()),
        group_roles: Set(group_lines(&settings.group_roles)),
        password_sign_in: Set(settings.password_sign_in),
        from_env: Set(from_env),
        updated_at: Set(Utc::now()),
    };
    if stored(conn).await?.is_some() {
        row.update(conn).await?;
    } else {
        row.insert(conn).await?;
    }
    Ok(())
}

fn from_env() -> Error {
    Error::Forbidden(
        "The environment sets single sign-on (TOLLGATE_SSO_*): change it there.".to_owned(),
    )
}

/// What changed, for the audit log; never the secret, only that it was replaced.
fn describe(before: Option<&SsoSettings>, after: &SsoSettings, input: &SsoInput) -> String {
    let mut parts = Vec::new();
    match before {
        None => parts.push(format!("turned on with {}", after.issuer)),
        Some(b) => {
            if b.issuer != after.issuer {
                parts.push(format!("issuer {}", after.issuer));
            }
            if b.client_id != after.client_id {
                parts.push("client id".to_owned());
            }
            if b.label != after.label {
                parts.push(format!("label {}", after.label));
            }
            if b.allowed_domains != after.allowed_domains {
                parts.push("allowed domains".to_owned());
            }
            if (b.new_people, b.new_people_team) != (after.new_people, after.new_people_team) {
                parts.push(format!("new people: {}", after.new_people.as_str()));
            }
            if (&b.groups_claim, &b.group_roles) != (&after.groups_claim, &after.group_roles) {
                parts.push("groups".to_owned());
            }
            if b.password_sign_in != after.password_sign_in {
                parts.push(
                    if after.password_sign_in {
                        "password sign-in on"
                    } else {
                        "password sign-in off"
                    }
                    .to_owned(),
                );
            }
        }
    }
    if !input.client_secret.trim().is_empty() {
        parts.push("client secret replaced".to_owned());
    }
    if parts.is_empty() {
        "saved unchanged".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The settings the sign-in path needs, the secret opened; `None` when single sign-on is off.
///
/// # Errors
/// [`Error::Internal`] on database failure, or a secret that does not open with this key.
pub async fn client(
    db: &DatabaseConnection,
    sealer: &Sealer,
) -> Result<Option<ClientSettings>, Error> {
    let Some(row) = stored(db).await? else {
        return Ok(None);
    };
    let secret = match &row.client_secret_sealed {
        Some(sealed) => Some(
            sealer
                .open(Purpose::SsoClientSecret, SEAL_CONTEXT, sealed)?
                .secret,
        ),
        None => None,
    };
    Ok(Some(ClientSettings {
        settings: settings_of(&row),
        secret,
    }))
}

/// Seals the client secret again under the current key when it was sealed under the previous
/// one (`TOLLGATE_SECRET_KEY_PREVIOUS`, while rotating); `true` when it did.
///
/// # Errors
/// [`Error::Internal`] on database failure, or a secret that opens with neither key.
pub async fn reseal(db: &DatabaseConnection, sealer: &Sealer) -> Result<bool, Error> {
    let Some(row) = stored(db).await? else {
        return Ok(false);
    };
    let Some(sealed) = &row.client_secret_sealed else {
        return Ok(false);
    };
    let opened = sealer.open(Purpose::SsoClientSecret, SEAL_CONTEXT, sealed)?;
    if !opened.under_previous {
        return Ok(false);
    }
    let mut changed: sso_setting::ActiveModel = row.clone().into();
    changed.client_secret_sealed = Set(Some(sealer.seal(
        Purpose::SsoClientSecret,
        SEAL_CONTEXT,
        opened.secret.expose(),
    )));
    changed.update(db).await?;
    Ok(true)
}

/// What the sign-in page offers; anyone may ask.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn sign_in_options(db: &DatabaseConnection) -> Result<SignInOptions, Error> {
    Ok(match stored(db).await? {
        Some(row) => SignInOptions {
            sso_label: Some(row.label),
            password: row.password_sign_in,
        },
        None => SignInOptions::default(),
    })
}

/// Refuses while passwords are turned off: for a password sign-in, and for accepting an invite
/// by choosing a password.
///
/// # Errors
/// [`Error::Forbidden`] with [`PASSWORD_OFF`]; [`Error::Internal`] on database failure.
pub async fn ensure_passwords_allowed(conn: &impl ConnectionTrait) -> Result<(), Error> {
    match stored(conn).await? {
        Some(row) if !row.password_sign_in => Err(Error::Forbidden(PASSWORD_OFF.to_owned())),
        _ => Ok(()),
    }
}

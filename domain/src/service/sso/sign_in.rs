//! Signing in a person their identity provider has vouched for (the server checked the ID token:
//! signature, issuer, audience, expiry, nonce). The account is found by the provider's subject,
//! or the first time by email — accepting a pending invite, or linking an active account — and
//! otherwise created or refused as the settings say. The session is the same as a password
//! sign-in's.

use super::{settings_of, stored};
use crate::db::begin_access_write;
use crate::entity::{invite, user};
use crate::service::session::{self, SessionPolicy};
use crate::service::sign_in::SignedIn;
use crate::service::{audit, session_user};
use crate::sso::{Refusal, SsoSettings};
use crate::{Error, Role, Status, UserId, validation};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

/// Who the identity provider says signed in, from a checked ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// The provider's `email_verified`; anything but `true` is unverified.
    pub email_verified: bool,
    pub name: Option<String>,
    /// The groups claim's values, when the settings name one and the token carries it.
    pub groups: Vec<String>,
}

/// How a single sign-on ended.
pub type Outcome = Result<SignedIn, Refusal>;

/// Signs `who` in, or says why not.
///
/// # Errors
/// [`Error::Internal`] on database failure (a refusal is an `Ok(Err(_))`).
pub async fn sign_in(
    db: &sea_orm::DatabaseConnection,
    who: &Identity,
    client_addr: &str,
    policy: SessionPolicy,
) -> Result<Outcome, Error> {
    let txn = begin_access_write(db).await?;
    let outcome = decide(&txn, who, client_addr, policy).await?;
    if outcome.is_ok() {
        txn.commit().await?;
    }
    Ok(outcome)
}

async fn decide(
    txn: &DatabaseTransaction,
    who: &Identity,
    client_addr: &str,
    policy: SessionPolicy,
) -> Result<Outcome, Error> {
    let Some(row) = stored(txn).await? else {
        return Ok(Err(Refusal::Off));
    };
    let settings = settings_of(&row);
    if who.issuer != settings.issuer || who.subject.is_empty() {
        return Ok(Err(Refusal::Failed));
    }
    if !who.email_verified {
        return Ok(Err(Refusal::Unverified));
    }
    let Some(email) = who.email.as_deref().and_then(|e| validation::email(e).ok()) else {
        return Ok(Err(Refusal::Unverified));
    };
    // An address that lower-cases to another only through Unicode (the Kelvin sign K becomes
    // k) would find someone else's account: such addresses do not sign in this way.
    if email.display.to_ascii_lowercase() != email.normalized {
        return Ok(Err(Refusal::Failed));
    }
    if !settings.domain_allowed(&email.normalized) {
        return Ok(Err(Refusal::Domain));
    }

    let by_subject = user::Entity::find()
        .filter(user::Column::SsoIssuer.eq(who.issuer.as_str()))
        .filter(user::Column::SsoSubject.eq(who.subject.as_str()))
        .one(txn)
        .await?;
    let found = match by_subject {
        Some(u) => Some(u),
        None => {
            let by_email = user::Entity::find()
                .filter(user::Column::EmailNormalized.eq(email.normalized.as_str()))
                .one(txn)
                .await?;
            // Tied to another subject of this provider: the address moved to someone else.
            if by_email
                .as_ref()
                .is_some_and(|u| u.sso_issuer.as_deref() == Some(&who.issuer))
            {
                return Ok(Err(Refusal::Linked));
            }
            by_email
        }
    };
    let account = match found {
        Some(u) => match u.status {
            Status::Suspended => return Ok(Err(Refusal::Suspended)),
            Status::Invited => match accept_invite(txn, u, who).await? {
                Some(u) => u,
                None => return Ok(Err(Refusal::Unknown)),
            },
            Status::Active => link(txn, u, who, &settings).await?,
        },
        None => match create(txn, who, &email, &settings).await? {
            Some(u) => u,
            None => return Ok(Err(Refusal::Unknown)),
        },
    };

    let token = session::start(txn, UserId(account.id), policy).await?;
    let by = audit::By {
        id: Some(account.id),
        email: &account.email,
    };
    let detail = format!("{} from {client_addr}", settings.label);
    audit::record(
        txn,
        by,
        "session.sign_in_sso",
        &format!("user:{}", account.id),
        &detail,
    )
    .await?;
    Ok(Ok(SignedIn {
        user: session_user(&account),
        token,
    }))
}

/// The name a new account gets: the token's, or the email's local part.
fn name_of(who: &Identity, email: &str) -> String {
    who.name
        .as_deref()
        .and_then(|n| validation::display_name(n).ok())
        .unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_owned())
}

/// Accepts `u`'s open invite by this sign-in: active, with the role and team the invite gave.
/// `None` when the invite can no longer be accepted (expired, revoked).
async fn accept_invite(
    txn: &DatabaseTransaction,
    u: user::Model,
    who: &Identity,
) -> Result<Option<user::Model>, Error> {
    let now = Utc::now();
    let open = invite::Entity::find()
        .filter(invite::Column::UserId.eq(u.id))
        .filter(invite::Column::UsedAt.is_null())
        .filter(invite::Column::RevokedAt.is_null())
        .filter(invite::Column::ExpiresAt.gt(now))
        .one(txn)
        .await?;
    let Some(inv) = open else {
        return Ok(None);
    };
    let name = name_of(who, &u.email);
    let mut active: user::ActiveModel = u.into();
    active.name = Set(Some(name));
    active.status = Set(Status::Active);
    active.joined_at = Set(Some(now));
    active.sso_issuer = Set(Some(who.issuer.clone()));
    active.sso_subject = Set(Some(who.subject.clone()));
    let accepted = active.update(txn).await?;
    invite::Entity::update_many()
        .col_expr(invite::Column::UsedAt, Expr::value(now))
        .filter(invite::Column::Id.eq(inv.id))
        .exec(txn)
        .await?;
    audit::record(
        txn,
        audit::By {
            id: Some(accepted.id),
            email: &accepted.email,
        },
        "user.accept_invite",
        &format!("user:{}", accepted.id),
        "with single sign-on",
    )
    .await?;
    Ok(Some(accepted))
}

/// An active account: tied to this subject the first time it signs in with this provider (an
/// account tied to an earlier issuer is tied to this one instead), and given the role its
/// groups map to — raised or lowered, so the provider's groups stay the source of roles they
/// map; never an Owner's changed, and nobody made Owner.
async fn link(
    txn: &DatabaseTransaction,
    u: user::Model,
    who: &Identity,
    settings: &SsoSettings,
) -> Result<user::Model, Error> {
    let new_role = settings
        .role_for(&who.groups)
        .filter(|r| *r != u.role && u.role != Role::Owner);
    let unlinked = u.sso_subject.is_none() || u.sso_issuer.as_deref() != Some(&who.issuer);
    if !unlinked && new_role.is_none() {
        return Ok(u);
    }
    let (id, email, old_role) = (u.id, u.email.clone(), u.role);
    let mut changed: user::ActiveModel = u.into();
    if unlinked {
        changed.sso_issuer = Set(Some(who.issuer.clone()));
        changed.sso_subject = Set(Some(who.subject.clone()));
    }
    if let Some(role) = new_role {
        changed.role = Set(role);
    }
    let updated = changed.update(txn).await?;
    let by = || audit::By {
        id: Some(id),
        email: &email,
    };
    if unlinked {
        audit::record(
            txn,
            by(),
            "user.sso_link",
            &format!("user:{id}"),
            &format!("tied to {} at {}", who.subject, who.issuer),
        )
        .await?;
    }
    if let Some(role) = new_role {
        audit::record(
            txn,
            by(),
            "user.sso_role",
            &format!("user:{id}"),
            &format!("{} → {}", old_role.label(), role.label()),
        )
        .await?;
    }
    Ok(updated)
}

/// A new account for someone nobody invited, when the settings create them: the role their
/// groups map to, else the settings' role, in the settings' team. `None` when they are refused.
async fn create(
    txn: &DatabaseTransaction,
    who: &Identity,
    email: &validation::Email,
    settings: &SsoSettings,
) -> Result<Option<user::Model>, Error> {
    let Some(default_role) = settings.new_people.role() else {
        return Ok(None);
    };
    let role = settings.role_for(&who.groups).unwrap_or(default_role);
    let now = Utc::now();
    let created = user::ActiveModel {
        email: Set(email.display.clone()),
        email_normalized: Set(email.normalized.clone()),
        name: Set(Some(name_of(who, &email.display))),
        role: Set(role),
        status: Set(Status::Active),
        team_id: Set(settings.new_people_team.map(|t| t.0)),
        created_at: Set(now),
        joined_at: Set(Some(now)),
        sso_issuer: Set(Some(who.issuer.clone())),
        sso_subject: Set(Some(who.subject.clone())),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        audit::By {
            id: Some(created.id),
            email: &created.email,
        },
        "user.sso_create",
        &format!("user:{}", created.id),
        &format!("{} as {}", created.email, role.as_str()),
    )
    .await?;
    Ok(Some(created))
}

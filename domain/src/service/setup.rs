//! First start: a one-time setup link creates the first Owner, then is gone for good.

use crate::db::begin_access_write;
use crate::dto::SessionUser;
use crate::entity::{setup_token, user};
use crate::secret::{Secret, hash_password};
use crate::service::{audit, session_user};
use crate::{Error, Role, Status, validation};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set,
};

/// What the first Owner types on the setup page.
#[derive(Debug, Clone)]
pub struct FirstOwner {
    pub name: String,
    pub email: String,
    pub password: Secret,
}

/// When nobody has been added yet, issues a fresh setup token (replacing any earlier one) and
/// returns it; once anyone exists, removes leftover tokens and returns `None`.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn issue_token(db: &DatabaseConnection) -> Result<Option<Secret>, Error> {
    let txn = begin_access_write(db).await?;
    setup_token::Entity::delete_many().exec(&txn).await?;
    let token = if user::Entity::find().count(&txn).await? == 0 {
        let token = Secret::random();
        setup_token::ActiveModel {
            token_hash: Set(token.digest()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        Some(token)
    } else {
        None
    };
    txn.commit().await?;
    Ok(token)
}

/// Whether `token` opens the setup page: it is the current token and nobody exists yet.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn is_open(db: &DatabaseConnection, token: &Secret) -> Result<bool, Error> {
    let token_ok = setup_token::Entity::find()
        .filter(setup_token::Column::TokenHash.eq(token.digest()))
        .count(db)
        .await?
        > 0;
    Ok(token_ok && user::Entity::find().count(db).await? == 0)
}

/// Creates the first Owner and closes setup for good. "Nobody exists yet" is read inside the
/// access-list write, so of two uses of one link at once exactly one makes an Owner.
///
/// # Errors
/// [`Error::Validation`] for bad input (nothing is written); [`Error::NotFound`] when the token
/// is wrong or setup is already done.
pub async fn complete(
    db: &DatabaseConnection,
    token: &Secret,
    owner: FirstOwner,
) -> Result<SessionUser, Error> {
    let name = validation::display_name(&owner.name)?;
    let email = validation::email(&owner.email)?;
    validation::password(owner.password.expose())?;
    // A wrong link is turned away before the (deliberately slow) hashing, so nobody can make
    // the server hash by guessing; the right one is checked again inside the write.
    if !setup_open(db, token).await? {
        return Err(closed());
    }
    let password_hash = hash_password(&owner.password).await?;

    let txn = begin_access_write(db).await?;
    if !setup_open(&txn, token).await? {
        return Err(closed());
    }
    let now = Utc::now();
    let created = user::ActiveModel {
        email: Set(email.display.clone()),
        email_normalized: Set(email.normalized),
        name: Set(Some(name)),
        role: Set(Role::Owner),
        status: Set(Status::Active),
        password_hash: Set(Some(password_hash)),
        created_at: Set(now),
        joined_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    setup_token::Entity::delete_many().exec(&txn).await?;
    let by = audit::By {
        id: Some(created.id),
        email: &created.email,
    };
    audit::record(
        &txn,
        by,
        "setup.first_owner",
        &format!("user:{}", created.id),
        "",
    )
    .await?;
    txn.commit().await?;
    Ok(session_user(&created))
}

/// The answer for a used, replaced or unknown setup link.
pub fn closed() -> Error {
    Error::NotFound(
        "This setup link is no longer valid: setup is done. Sign in instead.".to_owned(),
    )
}

/// Whether `token` is the live setup link and nobody exists yet.
async fn setup_open(conn: &impl ConnectionTrait, token: &Secret) -> Result<bool, Error> {
    let token_ok = setup_token::Entity::find()
        .filter(setup_token::Column::TokenHash.eq(token.digest()))
        .count(conn)
        .await?
        > 0;
    Ok(token_ok && user::Entity::find().count(conn).await? == 0)
}

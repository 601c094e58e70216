//! The users list and the actions on one user: change role, suspend, reactivate, delete.
//! Invites live in `invites.rs`.

use crate::db::begin_write;
use crate::entity::{api_key, team, usage_user_month, user};
use crate::permission::{Action, Actor, Subject};
use crate::service::{audit, month_key, parse_stored, session, stored_role, stored_status};
use crate::users::{
    PER_PAGE, SortDir, UserDetail, UserKey, UserPage, UserQuery, UserRow, UserSort, UserSummary,
};
use crate::{Error, Role, Status, TeamId, UserId};
use chrono::Utc;
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Expr, Func, LikeExpr, NullOrdering, Order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select,
};
use std::collections::HashMap;

/// One page of users matching `query`, with the gateway-wide summary cards.
///
/// # Errors
/// [`Error::Forbidden`] for an inactive actor; [`Error::Internal`] on database failure.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &UserQuery,
) -> Result<UserPage, Error> {
    actor.require(Action::Read)?;
    let filtered = filtered(query);
    let matching = filtered.clone().count(db).await?;
    let pages = Ord::max(matching.div_ceil(PER_PAGE), 1);
    let page = Ord::min(query.page, pages);
    let users = sorted(filtered, query)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .all(db)
        .await?;
    let team_names = team_names(db, users.iter().filter_map(|u| u.team_id)).await?;
    let rows = users
        .iter()
        .map(|u| row(u, &team_names))
        .collect::<Result<_, _>>()?;
    Ok(UserPage {
        rows,
        matching,
        page,
        pages,
        summary: summary(db).await?,
        generated_at: Utc::now(),
    })
}

fn filtered(query: &UserQuery) -> Select<user::Entity> {
    let mut select = user::Entity::find();
    if let Some(role) = query.role {
        select = select.filter(user::Column::Role.eq(stored_role(role)));
    }
    let needle = query.search.trim().to_lowercase();
    if !needle.is_empty() {
        let pattern = format!("%{}%", escape_like(&needle));
        select = select.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(user::Column::Name)))
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::col(user::Column::EmailNormalized)
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    select
}

/// Escapes LIKE's wildcards so a search for `50%` finds "50%", not everything.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn sorted(select: Select<user::Entity>, query: &UserQuery) -> Select<user::Entity> {
    let order = match query.dir {
        SortDir::Asc => Order::Asc,
        SortDir::Desc => Order::Desc,
    };
    // Invited users have no name yet: they sort by email among the named.
    let name_or_email = Expr::cust("COALESCE(LOWER(users.name), users.email_normalized)");
    let select = match query.sort {
        UserSort::Name => select.order_by(name_or_email, order.clone()),
        UserSort::Email => select.order_by(user::Column::EmailNormalized, order.clone()),
        UserSort::Role => select.order_by(role_rank(), order.clone()),
        UserSort::Status => select.order_by(user::Column::Status, order.clone()),
        UserSort::Team => select
            .join(JoinType::LeftJoin, user::Relation::Team.def())
            .order_by_with_nulls(
                Expr::col((team::Entity, team::Column::NameNormalized)),
                order.clone(),
                NullOrdering::Last,
            ),
        UserSort::LastActive => select.order_by_with_nulls(
            user::Column::LastActiveAt,
            order.clone(),
            NullOrdering::Last,
        ),
    };
    select.order_by(user::Column::Id, order)
}

/// Owner first, Viewer last, whatever the stored names sort as.
fn role_rank() -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(
        "CASE users.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END",
    )
}

async fn team_names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>, Error> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let teams = team::Entity::find()
        .filter(team::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(teams.into_iter().map(|t| (t.id, t.name)).collect())
}

fn row(u: &user::Model, team_names: &HashMap<i64, String>) -> Result<UserRow, Error> {
    Ok(UserRow {
        id: UserId(u.id),
        name: u.name.clone(),
        email: u.email.clone(),
        role: parse_stored(&u.role, "role")?,
        status: parse_stored(&u.status, "status")?,
        team: u
            .team_id
            .and_then(|id| team_names.get(&id).map(|n| (TeamId(id), n.clone()))),
        last_active_at: u.last_active_at,
    })
}

/// The four cards, counted over the whole gateway.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn summary(db: &impl ConnectionTrait) -> Result<UserSummary, Error> {
    let count_where = |cond: Condition| user::Entity::find().filter(cond).count(db);
    Ok(UserSummary {
        total: user::Entity::find().count(db).await?,
        active: count_where(
            Condition::all().add(user::Column::Status.eq(stored_status(Status::Active))),
        )
        .await?,
        admins: count_where(
            Condition::all().add(
                user::Column::Role.is_in([stored_role(Role::Owner), stored_role(Role::Admin)]),
            ),
        )
        .await?,
        pending_invites: count_where(
            Condition::all().add(user::Column::Status.eq(stored_status(Status::Invited))),
        )
        .await?,
    })
}

/// What expanding a row shows: the user's keys, request counts, join date and last activity.
///
/// # Errors
/// [`Error::NotFound`] when the user is gone.
pub async fn detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
) -> Result<UserDetail, Error> {
    actor.require(Action::Read)?;
    let u = find(db, id).await?;
    let now = Utc::now();
    let keys = api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(id.0))
        .order_by_desc(api_key::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|k| {
            let status = if k.revoked_at.is_some() {
                "revoked"
            } else if k.expires_at.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "active"
            };
            UserKey {
                name: k.name,
                prefix: k.prefix,
                created_at: k.created_at,
                last_used_at: k.last_used_at,
                status: status.to_owned(),
            }
        })
        .collect();
    let usage = usage_user_month::Entity::find()
        .filter(usage_user_month::Column::UserId.eq(id.0))
        .all(db)
        .await?;
    let this_month = month_key(now);
    Ok(UserDetail {
        keys,
        requests_this_month: usage
            .iter()
            .filter(|m| m.month == this_month)
            .map(|m| m.requests)
            .sum(),
        requests_all_time: usage.iter().map(|m| m.requests).sum(),
        joined_at: u.joined_at,
        last_active_at: u.last_active_at,
    })
}

/// Loads a user or answers that they are gone.
pub(crate) async fn find(db: &impl ConnectionTrait, id: UserId) -> Result<user::Model, Error> {
    user::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .ok_or_else(gone)
}

/// The answer for acting on a user someone else just deleted.
pub(crate) fn gone() -> Error {
    Error::NotFound("This user no longer exists. The list has been refreshed.".to_owned())
}

/// The permission subject for a stored user, with the last-active-Owner fact the guards need.
pub(crate) async fn subject(db: &impl ConnectionTrait, u: &user::Model) -> Result<Subject, Error> {
    let role: Role = parse_stored(&u.role, "role")?;
    let status: Status = parse_stored(&u.status, "status")?;
    let is_last_active_owner = role == Role::Owner
        && status == Status::Active
        && user::Entity::find()
            .filter(user::Column::Role.eq(stored_role(Role::Owner)))
            .filter(user::Column::Status.eq(stored_status(Status::Active)))
            .count(db)
            .await?
            == 1;
    Ok(Subject {
        id: UserId(u.id),
        role,
        status,
        is_last_active_owner,
    })
}

/// Records `verb` on user `id` in the audit log, as done by `actor`.
pub(crate) async fn record(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    verb: &str,
    id: UserId,
    detail: &str,
) -> Result<(), Error> {
    let email = user::Entity::find_by_id(actor.id.0)
        .one(conn)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let by = audit::By {
        id: Some(actor.id.0),
        email: &email,
    };
    audit::record(conn, by, verb, &format!("user:{id}"), detail).await
}

/// A stored user as a list row, with their team's name.
pub(crate) async fn row_with_team(
    conn: &impl ConnectionTrait,
    u: &user::Model,
) -> Result<UserRow, Error> {
    let names = team_names(conn, u.team_id.into_iter()).await?;
    row(u, &names)
}

/// Finishes a change to user `id`: the audit entry, the row as it now stands, the commit.
pub(crate) async fn commit_change(
    txn: DatabaseTransaction,
    actor: &Actor,
    verb: &str,
    id: UserId,
    detail: &str,
) -> Result<UserRow, Error> {
    record(&txn, actor, verb, id, detail).await?;
    let updated = row_with_team(&txn, &find(&txn, id).await?).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Gives `id` the role `to`.
///
/// # Errors
/// [`Error::Forbidden`] with the rule's reason; [`Error::NotFound`] when the user is gone.
pub async fn change_role(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
    to: Role,
) -> Result<UserRow, Error> {
    let txn = begin_write(db).await?;
    let u = find(&txn, id).await?;
    actor.require(Action::ChangeRole {
        target: subject(&txn, &u).await?,
        to,
    })?;
    user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value(stored_role(to)))
        .filter(user::Column::Id.eq(id.0))
        .exec(&txn)
        .await?;
    let detail = format!("{} → {}", u.role, to.as_str());
    commit_change(txn, actor, "user.change_role", id, &detail).await
}

/// Suspends an active user: their sessions end at once and their keys stop working.
///
/// # Errors
/// As [`change_role`].
pub async fn suspend(db: &DatabaseConnection, actor: &Actor, id: UserId) -> Result<UserRow, Error> {
    set_status(db, actor, id, Status::Suspended).await
}

/// Reactivates a suspended user.
///
/// # Errors
/// As [`change_role`].
pub async fn reactivate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
) -> Result<UserRow, Error> {
    set_status(db, actor, id, Status::Active).await
}

async fn set_status(
    db: &DatabaseConnection,
    actor: &Actor,
    id: UserId,
    to: Status,
) -> Result<UserRow, Error> {
    let txn = begin_write(db).await?;
    let u = find(&txn, id).await?;
    let target = subject(&txn, &u).await?;
    let (action, verb) = match to {
        Status::Suspended => (Action::Suspend { target }, "user.suspend"),
        _ => (Action::Reactivate { target }, "user.reactivate"),
    };
    actor.require(action)?;
    user::Entity::update_many()
        .col_expr(user::Column::Status, Expr::value(stored_status(to)))
        .filter(user::Column::Id.eq(id.0))
        .exec(&txn)
        .await?;
    if to == Status::Suspended {
        session::end_all_for(&txn, id).await?;
    }
    commit_change(txn, actor, verb, id, &u.email).await
}

/// Deletes a user: their sessions and invites go with them, their keys are revoked, their usage
/// history stays.
///
/// # Errors
/// As [`change_role`].
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: UserId) -> Result<(), Error> {
    let txn = begin_write(db).await?;
    let u = find(&txn, id).await?;
    actor.require(Action::Delete {
        target: subject(&txn, &u).await?,
    })?;
    api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(api_key::Column::UserId.eq(id.0))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    user::Entity::delete_by_id(id.0).exec(&txn).await?;
    record(&txn, actor, "user.delete", id, &u.email).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}

//! Reading `users` in a sort's order, for every plan of the users list: the key each sort
//! orders by (each has its index), the role filter, a page walked along the sort's index with
//! filters checked row by row, and ids read by a query turned back into rows in order.

use super::search::NAME_KEY;
use crate::entity::user;
use crate::list_query::SortDir;
use crate::service::bytewise;
use crate::service::{Window, in_order, order};
use crate::users::UserSort;
use crate::{Error, Role};
use sea_orm::sea_query::{Expr, ExprTrait, NullOrdering, SelectStatement, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait, Select,
};

/// The role filter on `users`.
pub(super) fn role_on_rows(role: Option<Role>) -> Option<SimpleExpr> {
    role.map(|r| Expr::col((user::Entity, user::Column::Role)).eq(r))
}

/// `users` passing every one of `filters`.
pub(super) fn filtered(filters: &[SimpleExpr]) -> Select<user::Entity> {
    filters
        .iter()
        .fold(user::Entity::find(), |select, f| select.filter(f.clone()))
}

/// The page of users passing `filters`, read along the sort's index.
pub(super) async fn walk(
    db: &DatabaseConnection,
    filters: &[SimpleExpr],
    sort: UserSort,
    dir: SortDir,
    window: Window,
) -> Result<Vec<user::Model>, Error> {
    let mut select = filtered(filters);
    let id = Expr::col((user::Entity, user::Column::Id));
    order_rows(
        QueryTrait::query(&mut select),
        sort_key(sort, db.get_database_backend()),
        id,
        sort,
        dir,
    );
    Ok(select
        .offset(window.offset)
        .limit(window.rows)
        .all(db)
        .await?)
}

/// What a sort orders rows of `users` by; each has its index (migrations `users_list_speed`,
/// `list_sort_speed` and `user_sort_keys`). Team is read by `by_team`: its key here is only
/// the team id.
pub(super) fn sort_key(sort: UserSort, backend: DbBackend) -> SimpleExpr {
    match sort {
        UserSort::Name => bytewise(backend, Expr::cust(NAME_KEY)),
        UserSort::Email => bytewise(
            backend,
            Expr::col((user::Entity, user::Column::EmailNormalized)),
        ),
        UserSort::Role => role_rank(),
        UserSort::Status => Expr::col((user::Entity, user::Column::Status)),
        UserSort::Team => Expr::col((user::Entity, user::Column::TeamId)),
        UserSort::LastActive => Expr::col((user::Entity, user::Column::LastActiveAt)),
    }
}

/// Orders `select` by `key` (never-active users last either way), ties broken by `id`.
pub(super) fn order_rows(
    select: &mut SelectStatement,
    key: SimpleExpr,
    id: SimpleExpr,
    sort: UserSort,
    dir: SortDir,
) {
    if sort == UserSort::LastActive {
        select.order_by_expr_with_nulls(key, order(dir), NullOrdering::Last);
    } else {
        select.order_by_expr(key, order(dir));
    }
    select.order_by_expr(id, order(dir));
}

/// The ids `select` yields in its first column.
pub(super) async fn ids(
    db: &DatabaseConnection,
    select: &SelectStatement,
) -> Result<Vec<i64>, Error> {
    db.query_all(select)
        .await?
        .iter()
        .map(|row| Ok(row.try_get_by_index(0)?))
        .collect()
}

/// The users with `ids`, in that order.
pub(super) async fn by_id(
    db: &DatabaseConnection,
    ids: Vec<i64>,
) -> Result<Vec<user::Model>, Error> {
    let found = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    Ok(in_order(&ids, found, |u| u.id))
}

/// Owner first, Viewer last, whatever the stored names sort as.
fn role_rank() -> SimpleExpr {
    Expr::cust(
        "CASE users.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'member' THEN 2 ELSE 3 END",
    )
}

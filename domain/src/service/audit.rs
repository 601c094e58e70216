//! The audit log: one entry per change, written in the same transaction as the change; read a
//! page at a time, or all of a query's entries for the CSV download, by Owners and Admins.

use crate::Error;
use crate::audit::{AuditPage, AuditQuery, AuditRow, TargetKind};
use crate::entity::audit_entry;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, QuerySelect, Set};

/// Who did it, as the log should remember them.
#[derive(Debug, Clone)]
pub struct By<'a> {
    pub id: Option<i64>,
    pub email: &'a str,
}

/// Appends an entry to the audit log.
///
/// # Errors
/// [`Error::Internal`] when the insert fails.
pub async fn record(
    conn: &impl ConnectionTrait,
    by: By<'_>,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), Error> {
    audit_entry::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(by.id),
        actor_email: Set(by.email.to_owned()),
        action: Set(action.to_owned()),
        target: Set(target.to_owned()),
        detail: Set(detail.to_owned()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Appends an entry done by `actor`, remembering their email as it is now.
///
/// # Errors
/// [`Error::Internal`] when a read or the insert fails.
pub async fn record_by(
    conn: &impl ConnectionTrait,
    actor: &crate::Actor,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), Error> {
    use sea_orm::EntityTrait;
    let email = crate::entity::user::Entity::find_by_id(actor.id.0)
        .one(conn)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let by = By {
        id: Some(actor.id.0),
        email: &email,
    };
    record(conn, by, action, target, detail).await
}

/// Records `actor` enabling or disabling `name` (`kind` is the actions' first word, e.g.
/// `provider` → `provider.enable`, "Enabled openai").
///
/// # Errors
/// As [`record_by`].
pub async fn record_switch(
    conn: &impl ConnectionTrait,
    actor: &crate::Actor,
    kind: &str,
    id: i64,
    name: &str,
    enabled: bool,
) -> Result<(), Error> {
    let (verb, words) = if enabled {
        ("enable", "Enabled")
    } else {
        ("disable", "Disabled")
    };
    let action = format!("{kind}.{verb}");
    let target = format!("{kind}:{id}");
    record_by(conn, actor, &action, &target, &format!("{words} {name}")).await
}

/// One page of the audit log matching `query`, newest first. A page out of range is read as the
/// nearest one.
///
/// # Errors
/// [`Error::Forbidden`] below Admin; [`Error::Validation`] on `search` past
/// [`SEARCH_MAX`](crate::list_query::SEARCH_MAX) characters or a `from` after `to`.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &crate::Actor,
    query: &AuditQuery,
) -> Result<AuditPage, Error> {
    use crate::list_query::{PER_PAGE, page_count, page_offset, page_served};
    use sea_orm::PaginatorTrait;
    let backend = db.get_database_backend();
    let matching_count = matching(backend, actor, query, Plan::ByKind)?
        .count(db)
        .await?;
    // Many entries of a kind: walk them newest first along the time index, as they come; few:
    // read them through the kind's index and sort those.
    let plan = if matching_count > WALK_ABOVE {
        Plan::ByTime
    } else {
        Plan::ByKind
    };
    let select = matching(backend, actor, query, plan)?;
    let matching = matching_count;
    let page = page_served(query.page, matching);
    let rows = newest_first(select)
        .offset(page_offset(page))
        .limit(PER_PAGE)
        .all(db)
        .await?
        .into_iter()
        .map(row)
        .collect();
    Ok(AuditPage {
        rows,
        matching,
        page,
        pages: page_count(matching),
        generated_at: Utc::now(),
    })
}

/// Every entry matching `query` (its page aside), newest first, at most
/// [`EXPORT_MAX`](crate::audit::EXPORT_MAX): what the CSV download holds.
///
/// # Errors
/// As [`list`].
pub async fn export(
    db: &impl ConnectionTrait,
    actor: &crate::Actor,
    query: &AuditQuery,
) -> Result<Vec<AuditRow>, Error> {
    Ok(newest_first(matching(
        db.get_database_backend(),
        actor,
        query,
        Plan::ByKind,
    )?)
    .limit(crate::audit::EXPORT_MAX)
    .all(db)
    .await?
    .into_iter()
    .map(row)
    .collect())
}

/// Above this many matching entries a page is read walking the time index (see [`Plan`]).
const WALK_ABOVE: u64 = 10_000;

/// How SQLite should read a kind's entries (PostgreSQL's planner weighs this itself, from its
/// statistics): through the index of kind and time (`ByKind`: right for counting them, and for
/// a page of a rare kind, whose few entries are then sorted), or along the time index, newest
/// first, keeping the kind's (`ByTime`: a page of a common kind, found as soon as it is full —
/// sorting 300,000 entries of one kind for a page of 50 took 240 ms at a million entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    ByKind,
    ByTime,
}

/// The entries `query` matches, once `actor` may read them and the query is sound. Each filter
/// is answered by an index (migration `audit_search`): the kind as a range of the action in byte
/// order, the days as a range of time, a search of three characters or more through the trigram
/// index (FTS5 on SQLite; pg_trgm on PostgreSQL, which the `LIKE`s below use), a shorter one by
/// reading the entries.
fn matching(
    backend: sea_orm::DbBackend,
    actor: &crate::Actor,
    query: &AuditQuery,
    plan: Plan,
) -> Result<sea_orm::Select<audit_entry::Entity>, Error> {
    use crate::list_query::check_search;
    use crate::service::{bytewise, escape_like, successor};
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
    actor.require(crate::Action::ReadAudit)?;
    check_search(&query.search)?;
    if query.actor.chars().count() > crate::validation::EMAIL_MAX {
        return Err(Error::validation("who", "That email address is too long."));
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(Error::validation(
            "to",
            "Pick a day on or after the first one.",
        ));
    }
    let mut select = audit_entry::Entity::find();
    if let Some(kind) = query.kind {
        let action = || match (backend, plan) {
            // SQLite's unary `+` keeps the column and hides the index.
            (sea_orm::DbBackend::Sqlite, Plan::ByTime) => {
                Expr::cust_with_expr("+$1", Expr::col(audit_entry::Column::Action))
            }
            _ => bytewise(backend, Expr::col(audit_entry::Column::Action)),
        };
        select = select
            .filter(action().gte(kind.prefix()))
            .filter(action().lt(successor(kind.prefix())));
    }
    if let Some(target) = &query.target {
        select = select.filter(audit_entry::Column::Target.eq(target.as_str()));
    }
    // Through the index of target and time: `team:` up to `team;`, its successor.
    match query.on {
        Some(TargetKind::Billing) => {
            select = select.filter(audit_entry::Column::Target.eq(TargetKind::Billing.as_str()));
        }
        Some(kind) => {
            let prefix = format!("{}:", kind.as_str());
            let target = || match (backend, plan) {
                (sea_orm::DbBackend::Sqlite, Plan::ByTime) => {
                    Expr::cust_with_expr("+$1", Expr::col(audit_entry::Column::Target))
                }
                _ => bytewise(backend, Expr::col(audit_entry::Column::Target)),
            };
            select = select
                .filter(target().gte(prefix.as_str()))
                .filter(target().lt(successor(&prefix)));
        }
        None => {}
    }
    // Through the index of the lower-cased email and time (migration `audit_filters`).
    let who = query.actor.trim().to_lowercase();
    if !who.is_empty() {
        select = select
            .filter(Expr::expr(Func::lower(Expr::col(audit_entry::Column::ActorEmail))).eq(who));
    }
    if let Some(from) = query.from.and_then(|d| d.and_hms_opt(0, 0, 0)) {
        select = select.filter(audit_entry::Column::At.gte(from.and_utc()));
    }
    if let Some(next) = query
        .to
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        select = select.filter(audit_entry::Column::At.lt(next.and_utc()));
    }
    let needle = query.search.trim().to_lowercase();
    if backend == sea_orm::DbBackend::Sqlite && needle.chars().count() >= 3 {
        // One FTS5 phrase of consecutive trigrams: a substring of any of the three columns. The
        // text as typed: the trigram tokenizer folds case itself, on both sides alike.
        let typed = query.search.trim();
        let phrase = format!("\"{}\"", typed.replace('"', "\"\""));
        select = select.filter(Expr::cust_with_values(
            "audit_log.id IN (SELECT rowid FROM audit_search WHERE audit_search MATCH ?)",
            [phrase],
        ));
    } else if !needle.is_empty() {
        let pattern = format!("%{}%", escape_like(&needle));
        let like = |column: audit_entry::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        select = select.filter(
            Condition::any()
                .add(like(audit_entry::Column::ActorEmail))
                .add(like(audit_entry::Column::Detail))
                .add(like(audit_entry::Column::Target)),
        );
    }
    Ok(select)
}

fn newest_first(
    select: sea_orm::Select<audit_entry::Entity>,
) -> sea_orm::Select<audit_entry::Entity> {
    use sea_orm::QueryOrder;
    select
        .order_by_desc(audit_entry::Column::At)
        .order_by_desc(audit_entry::Column::Id)
}

fn row(e: audit_entry::Model) -> AuditRow {
    AuditRow {
        id: e.id,
        at: e.at,
        actor_email: e.actor_email,
        action: e.action,
        target: e.target,
        detail: e.detail,
    }
}

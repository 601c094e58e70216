//! `tollgate-bench usage`: times the Usage page's report (every query it makes, server side)
//! per range and grouping over `usage_days` as 10,000 teams and 100,000 people leave it after
//! 90 days (about 10 million requests), and prints p50/p95/p99. Seeds the history first when
//! the table is empty, then times building the rolling windows and moving them on by a day.

use chrono::Utc;
use domain::entity::{team, usage_day, user};
use domain::service::seed;
use domain::service::usage_report::{self, ROWS_SHOWN, Rows};
use domain::service::usage_windows;
use domain::usage::{GroupBy, Period, UsageQuery, UsageSort};
use domain::{Actor, Role, Status, UserId};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use std::time::Instant;
use tollgate::startup_error::StartupError;

/// The team the benchmark's Member belongs to (one of the seeded ones).
const MEMBERS_TEAM: i64 = 42;

fn shapes() -> Vec<(&'static str, bool, UsageQuery)> {
    let q = |period, group| UsageQuery {
        period,
        group,
        ..UsageQuery::default()
    };
    vec![
        (
            "this month, by team",
            false,
            q(Period::ThisMonth, GroupBy::Team),
        ),
        (
            "this month, by user",
            false,
            q(Period::ThisMonth, GroupBy::User),
        ),
        (
            "last 7 days, by user",
            false,
            q(Period::Last7, GroupBy::User),
        ),
        (
            "last 30 days, by key",
            false,
            q(Period::Last30, GroupBy::Key),
        ),
        (
            "last 90 days, by team",
            false,
            q(Period::Last90, GroupBy::Team),
        ),
        (
            "last 90 days, by user",
            false,
            q(Period::Last90, GroupBy::User),
        ),
        (
            "last 90 days, by key",
            false,
            q(Period::Last90, GroupBy::Key),
        ),
        (
            "last 90 days, by user, most requests",
            false,
            UsageQuery {
                sort: UsageSort::Requests,
                ..q(Period::Last90, GroupBy::User)
            },
        ),
        (
            "last 30 days, by user, by name",
            false,
            UsageQuery {
                sort: UsageSort::Name,
                descending: false,
                ..q(Period::Last30, GroupBy::User)
            },
        ),
        (
            "last 90 days, by model",
            false,
            q(Period::Last90, GroupBy::Model),
        ),
        (
            "a Member, last 90 days, by user",
            true,
            q(Period::Last90, GroupBy::User),
        ),
    ]
}

/// Seeds if needed, then measures every shape `iterations` times after a warm-up.
///
/// # Errors
/// [`StartupError`] when the database cannot be used.
pub async fn bench_usage(
    config: &tollgate::config::Config,
    teams: u64,
    users: u64,
    iterations: usize,
) -> Result<(), StartupError> {
    let db = tollgate::serve::open_database(config).await?;
    let fail = StartupError::Setup;
    let rows = usage_day::Entity::find()
        .count(&db)
        .await
        .map_err(|e| fail(e.into()))?;
    if rows == 0 {
        let started = Instant::now();
        let (rows, requests) = seed::usage_history(&db, teams, users, 90)
            .await
            .map_err(fail)?;
        println!(
            "seeded {rows} day rows ({requests} requests) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    windows(&db).await.map_err(fail)?;
    let member = members_view(&db).await.map_err(|e| fail(e.into()))?;
    let backend = crate::settle(config, &db).await?;
    let rows = usage_day::Entity::find()
        .count(&db)
        .await
        .map_err(|e| fail(e.into()))?;
    println!(
        "usage report on {backend}: {rows} day rows, {teams} teams, {users} people, \
         {iterations} calls per shape, ms (server side)"
    );
    println!(
        "{:<36} {:>8} {:>8} {:>8} {:>8}",
        "shape", "p50", "p95", "p99", "groups"
    );
    let owner = crate::reader();
    for (name, as_member, query) in shapes() {
        let reader = if as_member { &member } else { &owner };
        let mut times = Vec::with_capacity(iterations);
        let mut groups = 0;
        for i in 0..iterations + 2 {
            let started = Instant::now();
            let report =
                usage_report::report(&db, reader, &query, Utc::now(), Rows::First(ROWS_SHOWN))
                    .await
                    .map_err(fail)?;
            if i >= 2 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            groups = report.rows.len();
        }
        let pct = crate::percentiles(times);
        println!(
            "{name:<36} {:>8.1} {:>8.1} {:>8.1} {groups:>8}",
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    }
    db.close().await.ok();
    Ok(())
}

/// Builds the rolling windows from the day rows as a gateway's first start after the upgrade
/// does (ending yesterday), moves them on to today as the server does after midnight, then
/// keeps them up once more with nothing to move (what every minute costs), printing how long
/// each took.
async fn windows(db: &domain::db::DatabaseConnection) -> Result<(), domain::Error> {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared("DELETE FROM usage_window_ends")
        .await?;
    let now = Utc::now();
    let mut took = Vec::new();
    for day in [now - chrono::Duration::days(1), now, now] {
        let started = Instant::now();
        usage_windows::keep_up(db, day).await?;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "rolling windows: built from the day rows in {:.1} s; moved on by a day in {:.0} ms; \
         checked with nothing to move in {:.1} ms",
        took[0] / 1000.0,
        took[1],
        took[2]
    );
    Ok(())
}

/// A Member of [`MEMBERS_TEAM`] (made once, with the team).
async fn members_view(db: &domain::db::DatabaseConnection) -> Result<Actor, sea_orm::DbErr> {
    let email = "member@usage-bench.example.com";
    if team::Entity::find_by_id(MEMBERS_TEAM)
        .one(db)
        .await?
        .is_none()
    {
        team::ActiveModel {
            id: Set(MEMBERS_TEAM),
            name: Set("Bench team".into()),
            name_normalized: Set("bench team".into()),
            description: Set(String::new()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    use sea_orm::{ColumnTrait, QueryFilter};
    let found = user::Entity::find()
        .filter(user::Column::EmailNormalized.eq(email))
        .one(db)
        .await?;
    let id = match found {
        Some(u) => u.id,
        None => {
            user::ActiveModel {
                email: Set(email.into()),
                email_normalized: Set(email.into()),
                name: Set(Some("Bench Member".into())),
                role: Set(Role::Member),
                status: Set(Status::Active),
                team_id: Set(Some(MEMBERS_TEAM)),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(db)
            .await?
            .id
        }
    };
    Ok(Actor {
        id: UserId(id),
        role: Role::Member,
        status: Status::Active,
    })
}

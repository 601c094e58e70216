//! `tollgate-bench users`: times one users-list call (search + role filter + sort + one page +
//! the four cards) per query shape, on the configured database, and prints p50/p95/p99. Seeds
//! the database first when it holds fewer users than asked. The time is the server's own: the
//! domain call, not the network.

use domain::Role;
use domain::list_query::SortDir;
use domain::service::{seed, users};
use domain::users::{UserQuery, UserSort};
use std::time::Instant;
use tollgate::startup_error::StartupError;

/// The query shapes measured: what people do on the page.
fn shapes() -> Vec<(&'static str, UserQuery)> {
    let q = UserQuery::default;
    vec![
        ("first page, by name", q()),
        (
            "search 'hopper' + role Member + last active desc, page 3",
            UserQuery {
                search: "hopper".into(),
                role: Some(Role::Member),
                sort: UserSort::LastActive,
                dir: SortDir::Desc,
                page: 3,
            },
        ),
        (
            "search 'grace.knuth.7' (one email)",
            UserQuery {
                search: "grace.knuth.7".into(),
                ..q()
            },
        ),
        (
            "search 'zz' (two letters, no match)",
            UserQuery {
                search: "zz".into(),
                ..q()
            },
        ),
        (
            "search 'seed' (matches everyone), by name",
            UserQuery {
                search: "seed".into(),
                ..q()
            },
        ),
        (
            "search 'seed' + role Owner",
            UserQuery {
                search: "seed".into(),
                role: Some(Role::Owner),
                ..q()
            },
        ),
        (
            "search 'gr' (prefix), by email",
            UserQuery {
                search: "gr".into(),
                sort: UserSort::Email,
                ..q()
            },
        ),
        (
            "search 'gr' + role Member, by name desc, page 10",
            UserQuery {
                search: "gr".into(),
                role: Some(Role::Member),
                dir: SortDir::Desc,
                page: 10,
                ..q()
            },
        ),
        (
            "search 'grace' (bunched in name order), by name",
            UserQuery {
                search: "grace".into(),
                ..q()
            },
        ),
        (
            "by last active, most recent first",
            UserQuery {
                sort: UserSort::LastActive,
                dir: SortDir::Desc,
                ..q()
            },
        ),
        (
            "role Admin, by email",
            UserQuery {
                role: Some(Role::Admin),
                sort: UserSort::Email,
                ..q()
            },
        ),
        (
            "by team, page 40",
            UserQuery {
                sort: UserSort::Team,
                page: 40,
                ..q()
            },
        ),
    ]
}

/// Seeds if needed, then measures every shape `iterations` times after a warm-up.
///
/// # Errors
/// [`StartupError`] when the database cannot be used.
pub async fn bench_users(
    config: &tollgate::config::Config,
    users: u64,
    teams: u64,
    iterations: usize,
) -> Result<(), StartupError> {
    let db = tollgate::serve::open_database(config).await?;
    let owner = crate::reader();
    let have = users::summary(&db)
        .await
        .map_err(StartupError::Setup)?
        .total;
    if have < users {
        let started = Instant::now();
        let seeded = seed::seed(&db, users - have, teams)
            .await
            .map_err(StartupError::Setup)?;
        println!(
            "seeded {} users and {teams} teams in {:.1} s (Owner {}, password {})",
            users - have,
            started.elapsed().as_secs_f64(),
            seeded.owner_email,
            seeded.owner_password.expose()
        );
    }
    let backend = crate::settle(config, &db).await?;
    println!(
        "users list on {backend}: {users} users, {iterations} calls per shape, times in ms (server side)"
    );
    println!(
        "{:<58} {:>8} {:>8} {:>8} {:>8}",
        "shape", "p50", "p95", "p99", "rows"
    );
    for (name, query) in shapes() {
        let mut times = Vec::with_capacity(iterations);
        let mut rows = String::new();
        for i in 0..iterations + 5 {
            let started = Instant::now();
            let page = users::list(&db, &owner, &query)
                .await
                .map_err(StartupError::Setup)?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if i >= 5 {
                times.push(ms);
            }
            rows = if page.matching_exact {
                page.matching.to_string()
            } else {
                format!("{}+", page.matching)
            };
        }
        let pct = crate::percentiles(times);
        println!(
            "{name:<58} {:>8.2} {:>8.2} {:>8.2} {rows:>8}",
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    }
    db.close().await.ok();
    Ok(())
}

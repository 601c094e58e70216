//! `tollgate-bench teams`: times one teams-list call (search + sort + one page + the four cards)
//! per query shape and prints p50/p95/p99. Seeds first when the database holds fewer teams than
//! asked — teams, users, this month's usage through the metering service — and gives every
//! team eleven earlier months of usage too, so the month aggregates the list reads hold a year.

use domain::list_query::SortDir;
use domain::service::{seed, teams};
use domain::teams::{TeamQuery, TeamSort};
use std::time::Instant;
use tollgate::startup_error::StartupError;

fn shapes() -> Vec<(&'static str, TeamQuery)> {
    let q = TeamQuery::default;
    let sorted = |sort, dir, page| TeamQuery {
        sort,
        dir,
        page,
        ..q()
    };
    vec![
        ("first page, by name", q()),
        (
            "search 'data' (1 in 12 teams), by name",
            TeamQuery {
                search: "data".into(),
                ..q()
            },
        ),
        (
            "search 'research 4', by spend desc",
            TeamQuery {
                search: "research 4".into(),
                sort: TeamSort::Spend,
                dir: SortDir::Desc,
                ..q()
            },
        ),
        (
            "search 'a' (most teams), by requests desc",
            TeamQuery {
                search: "a".into(),
                sort: TeamSort::Requests,
                dir: SortDir::Desc,
                ..q()
            },
        ),
        (
            "by members desc",
            sorted(TeamSort::Members, SortDir::Desc, 1),
        ),
        (
            "by spend desc, page 20",
            sorted(TeamSort::Spend, SortDir::Desc, 20),
        ),
        (
            "by requests asc, page 100",
            sorted(TeamSort::Requests, SortDir::Asc, 100),
        ),
    ]
}

/// Seeds if needed, then measures every shape `iterations` times after a warm-up.
///
/// # Errors
/// [`StartupError`] when the database cannot be used.
pub async fn bench_teams(
    config: &tollgate::config::Config,
    teams_wanted: u64,
    users: u64,
    iterations: usize,
) -> Result<(), StartupError> {
    let db = tollgate::serve::open_database(config).await?;
    let owner = crate::reader();
    let have = teams::summary(&db)
        .await
        .map_err(StartupError::Setup)?
        .teams;
    if have < teams_wanted {
        let started = Instant::now();
        let seeded = seed::seed(&db, users, teams_wanted - have)
            .await
            .map_err(StartupError::Setup)?;
        let history = seed::earlier_months(&db, 11)
            .await
            .map_err(StartupError::Setup)?;
        println!(
            "seeded {users} users, {} teams and {history} earlier team-months in {:.1} s \
             (Owner {}, password {})",
            teams_wanted - have,
            started.elapsed().as_secs_f64(),
            seeded.owner_email,
            seeded.owner_password.expose()
        );
    }
    let backend = crate::settle(config, &db).await?;
    let summary = teams::summary(&db).await.map_err(StartupError::Setup)?;
    println!(
        "teams list on {backend}: {} teams, {} members, {iterations} calls per shape, ms (server side)",
        summary.teams, summary.members
    );
    println!(
        "{:<46} {:>8} {:>8} {:>8} {:>8}",
        "shape", "p50", "p95", "p99", "rows"
    );
    for (name, query) in shapes() {
        let mut times = Vec::with_capacity(iterations);
        let mut rows = 0;
        for i in 0..iterations + 5 {
            let started = Instant::now();
            let page = teams::list(&db, &owner, &query)
                .await
                .map_err(StartupError::Setup)?;
            if i >= 5 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            rows = page.matching;
        }
        let pct = crate::percentiles(times);
        println!(
            "{name:<46} {:>8.2} {:>8.2} {:>8.2} {rows:>8}",
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    }
    db.close().await.ok();
    Ok(())
}

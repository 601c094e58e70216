//! `tollgate-bench audit`: times one audit-log page (filters + count + one page, newest first)
//! per query shape over a log of a million entries, and prints p50/p95/p99. Seeds the log first
//! when it holds fewer entries than asked.

use chrono::{Duration, Utc};
use domain::audit::{AuditKind, AuditQuery, TargetKind};
use domain::service::{audit, seed};
use std::time::Instant;
use tollgate::startup_error::StartupError;

/// The shapes timed; `someone` is an actor of the log (5,000 entries each when seeded), who
/// acted on `their` kind of thing.
fn shapes(someone: &str, their: Option<TargetKind>) -> Vec<(&'static str, AuditQuery)> {
    let q = AuditQuery::default;
    let today = Utc::now().date_naive();
    vec![
        ("newest first, page 1", q()),
        ("newest first, page 100", AuditQuery { page: 100, ..q() }),
        (
            "kind: API keys",
            AuditQuery {
                kind: Some(AuditKind::Keys),
                ..q()
            },
        ),
        (
            "kind: teams, page 50",
            AuditQuery {
                kind: Some(AuditKind::Teams),
                page: 50,
                ..q()
            },
        ),
        (
            "who: one person",
            AuditQuery {
                actor: someone.to_owned(),
                ..q()
            },
        ),
        (
            "who: one person, on what they act on",
            AuditQuery {
                actor: someone.to_owned(),
                on: their,
                ..q()
            },
        ),
        (
            "on: teams, page 50",
            AuditQuery {
                on: Some(TargetKind::Teams),
                page: 50,
                ..q()
            },
        ),
        (
            "the last 7 days",
            AuditQuery {
                from: Some(today - Duration::days(6)),
                to: Some(today),
                ..q()
            },
        ),
        (
            "sign-ins on one day, 3 months ago",
            AuditQuery {
                kind: Some(AuditKind::SignIns),
                from: Some(today - Duration::days(90)),
                to: Some(today - Duration::days(90)),
                ..q()
            },
        ),
        (
            "search 'grace.turing' (an actor)",
            AuditQuery {
                search: "grace.turing".into(),
                ..q()
            },
        ),
        (
            "search 'key:42' (a target), last 30 days",
            AuditQuery {
                search: "key:42".into(),
                from: Some(today - Duration::days(29)),
                to: Some(today),
                ..q()
            },
        ),
    ]
}

/// Seeds if needed, then measures every shape `iterations` times after a warm-up.
///
/// # Errors
/// [`StartupError`] when the database cannot be used.
pub async fn bench_audit(
    config: &tollgate::config::Config,
    entries: u64,
    iterations: usize,
) -> Result<(), StartupError> {
    let db = tollgate::serve::open_database(config).await?;
    let owner = crate::reader();
    let have = audit::list(&db, &owner, &AuditQuery::default())
        .await
        .map_err(StartupError::Setup)?
        .matching;
    if have < entries {
        let started = Instant::now();
        let written = seed::audit_entries(&db, entries - have)
            .await
            .map_err(StartupError::Setup)?;
        println!(
            "seeded {written} audit entries in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let backend = crate::settle(config, &db).await?;
    println!(
        "audit log on {backend}: {} entries, {iterations} calls per shape, ms (server side)",
        have.max(entries)
    );
    println!(
        "{:<46} {:>8} {:>8} {:>8} {:>8}",
        "shape", "p50", "p95", "p99", "matching"
    );
    let newest = audit::list(&db, &owner, &AuditQuery::default())
        .await
        .map_err(StartupError::Setup)?
        .rows
        .into_iter()
        .next();
    let someone = newest
        .as_ref()
        .map(|e| e.actor_email.clone())
        .unwrap_or_default();
    let their = newest.and_then(|e| {
        e.target
            .split_once(':')
            .and_then(|(k, _)| TargetKind::parse(k))
    });
    for (name, query) in shapes(&someone, their) {
        let mut times = Vec::with_capacity(iterations);
        let mut matching = 0;
        for i in 0..iterations + 3 {
            let started = Instant::now();
            let page = audit::list(&db, &owner, &query)
                .await
                .map_err(StartupError::Setup)?;
            if i >= 3 {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            matching = page.matching;
        }
        let pct = crate::percentiles(times);
        println!(
            "{name:<46} {:>8.2} {:>8.2} {:>8.2} {matching:>8}",
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    }
    db.close().await.ok();
    Ok(())
}

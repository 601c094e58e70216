//! `tollgate-bench access`: how soon a `tollgate` process hears of an access change another
//! process made, and what it costs the database meanwhile. The release `tollgate serve` runs
//! in its own process; this one plays a second instance writing to the same database: it
//! issues a key, uses it once through the gateway (so the gateway remembers it), revokes it,
//! and from the moment the revocation has committed sends requests with the key until the
//! gateway refuses it. Before that, with nothing happening, it counts the transactions the
//! idle gateway makes per second (PostgreSQL's `pg_stat_database`).

use crate::fixture::prepare_with_owner;
use crate::load;
use crate::processes;
use domain::service::keys;
use sea_orm::{ConnectionTrait, Statement};
use std::path::Path;
use std::time::{Duration, Instant};
use tollgate::startup_error::StartupError;

/// Runs `rounds` revocations against the `tollgate` binary at `tollgate` on the scratch
/// database of `config`, then watches it idle for `idle_seconds`.
///
/// # Errors
/// [`StartupError`] when the database or a process cannot be started.
pub async fn bench_access(
    config: &tollgate::config::Config,
    tollgate: &Path,
    rounds: usize,
    idle_seconds: u64,
) -> Result<(), StartupError> {
    let mut started = processes::start(tollgate, &config.database_url).await?;
    let db = tollgate::serve::open_database(config).await?;
    let (owner, team, _) = prepare_with_owner(&db, "1000000").await?;
    let http = load::client();
    let url = format!("http://{}/v1/chat/completions", started.gateway.addr);
    let body = r#"{"model":"bench","messages":[{"role":"user","content":"Hi"}],"max_tokens":8}"#;
    let send = |key: String| {
        http.post(&url)
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let backend = crate::backend(config);
    // First the idle gateway, freshly started, as the database sees it.
    let mut idle = None;
    if backend == "PostgreSQL" {
        let before = transactions(&db).await.map_err(StartupError::Setup)?;
        let since = Instant::now();
        tokio::time::sleep(Duration::from_secs(idle_seconds)).await;
        let after = transactions(&db).await.map_err(StartupError::Setup)?;
        let rate = (after - before) as f64 / since.elapsed().as_secs_f64();
        idle = Some(rate);
    }
    let mut heard = Vec::with_capacity(rounds);
    let mut requests_after = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let issued = keys::issue(
            &db,
            &owner,
            keys::IssueInput {
                name: format!("revoked {round}"),
                team: Some(team),
                ..Default::default()
            },
        )
        .await
        .map_err(StartupError::Setup)?;
        let first = send(issued.secret.clone())
            .await
            .map_err(|e| processes::failed(std::io::Error::other(e)))?;
        if first.status() != 200 {
            return Err(processes::failed(std::io::Error::other(format!(
                "a fresh key got {}",
                first.status()
            ))));
        }
        keys::revoke(&db, &owner, issued.key.id)
            .await
            .map_err(StartupError::Setup)?;
        let committed = Instant::now();
        let mut sent = 0;
        loop {
            sent += 1;
            let status = send(issued.secret.clone())
                .await
                .map_err(|e| processes::failed(std::io::Error::other(e)))?
                .status();
            if status == 401 {
                break;
            }
            if committed.elapsed() > Duration::from_secs(10) {
                return Err(processes::failed(std::io::Error::other(
                    "the revoked key still worked after 10 s",
                )));
            }
        }
        heard.push(committed.elapsed().as_secs_f64() * 1000.0);
        requests_after.push(sent as f64);
    }
    let pct = crate::percentiles(heard);
    let most_sent = requests_after.iter().copied().fold(0.0, f64::max);
    println!(
        "access changes on {backend}, {} in its own process: a key revoked here, ms until the \
         gateway refuses it ({rounds} rounds)",
        tollgate.display()
    );
    println!(
        "  p50 {:.3}  p95 {:.3}  p99 {:.3}  max {:.3}   (requests sent until refused: at most {most_sent})",
        pct(0.50),
        pct(0.95),
        pct(0.99),
        pct(1.0)
    );
    if let Some(rate) = idle {
        println!(
            "  idle gateway: {rate:.1} transactions/s on the database over {idle_seconds} s \
             (this process's two reads included)"
        );
    }
    started.gateway.stop().await.map_err(processes::failed)?;
    Ok(())
}

/// Transactions committed or rolled back in the current database so far.
async fn transactions(db: &domain::db::DatabaseConnection) -> Result<i64, domain::Error> {
    // The statistics of this transaction's snapshot: clear them so the read is fresh.
    db.execute_unprepared("SELECT pg_stat_clear_snapshot()")
        .await?;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database \
             WHERE datname = current_database()",
        ))
        .await?
        .ok_or_else(domain::Error::internal)?;
    Ok(row.try_get_by_index(0)?)
}

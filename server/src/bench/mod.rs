//! The committed benchmarks, run by `scripts/bench.sh`: the users and teams lists per query
//! shape, and the gateway's added latency at a fixed request rate.

pub mod gateway;
pub mod teams;
pub mod users;

use domain::{Actor, Role, Status, UserId};

/// Who the list benchmarks read as: an Owner (reads are allowed to every active role, so the
/// id is not looked up).
fn reader() -> Actor {
    Actor {
        id: UserId(0),
        role: Role::Owner,
        status: Status::Active,
    }
}

/// Readies the database for measuring as a running gateway's would be (fresh planner statistics:
/// `domain::service::seed::settle`) and answers its name for the report.
async fn prepare(
    config: &crate::config::Config,
    db: &domain::db::DatabaseConnection,
) -> Result<&'static str, crate::cli::CliError> {
    domain::service::seed::settle(db)
        .await
        .map_err(crate::cli::CliError::Setup)?;
    Ok(if config.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    })
}

/// The `p`-th quantile (0–1, nearest rank) of `samples`, as a lookup function.
pub fn percentiles(mut samples: Vec<f64>) -> impl Fn(f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    move |p: f64| {
        if samples.is_empty() {
            return f64::NAN;
        }
        let rank = (samples.len() as f64 * p).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1]
    }
}

//! `tollgate-bench`: the committed benchmarks, run by `scripts/bench.sh` — the users and teams
//! lists and the audit log per query shape; the latency the release `tollgate` adds in front of a stub upstream,
//! measured from a process of its own at fixed request rates; and how soon a running gateway
//! hears of an access change made elsewhere. A binary of its own so the served `tollgate` holds
//! neither the benchmarks nor the stub; it builds on the same library (configuration,
//! start-up, router) as `tollgate`.

mod access;
mod audit;
mod fixture;
mod gateway;
mod guardrails;
mod load;
mod processes;
#[allow(dead_code)] // Shared with `server/tests`, which drive more of it than the benchmark.
mod stub_upstream;
mod teams;
mod usage;
mod users;

use clap::{Parser, Subcommand};
use domain::{Actor, Role, Status, UserId};
use std::io::IsTerminal;
use std::path::PathBuf;
use tollgate::config::Config;
use tollgate::startup_error::StartupError;

/// Tollgate's benchmarks. Point DATABASE_URL at a scratch database: they seed it.
///
/// The log (one line per request in `gateway`) goes to stderr, the figures to stdout.
#[derive(Debug, Parser)]
#[command(name = "tollgate-bench", version)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Time the users list per query shape (p50/p95/p99), seeding first if the database holds
    /// fewer users than asked.
    Users {
        #[arg(long, default_value_t = 100_000)]
        users: u64,
        #[arg(long, default_value_t = 1_000)]
        teams: u64,
        #[arg(long, default_value_t = 200)]
        iterations: usize,
    },
    /// Time the audit log's page per query shape (p50/p95/p99), seeding first if the log holds
    /// fewer entries than asked.
    Audit {
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
        #[arg(long, default_value_t = 50)]
        iterations: usize,
    },
    /// Time the Usage page's report per range and grouping (p50/p95/p99), seeding 90 days of
    /// history first if there is none.
    Usage {
        #[arg(long, default_value_t = 10_000)]
        teams: u64,
        #[arg(long, default_value_t = 100_000)]
        users: u64,
        #[arg(long, default_value_t = 20)]
        iterations: usize,
    },
    /// Time the teams list per query shape (p50/p95/p99), seeding first if the database holds
    /// fewer teams than asked.
    Teams {
        #[arg(long, default_value_t = 10_000)]
        teams: u64,
        #[arg(long, default_value_t = 100_000)]
        users: u64,
        #[arg(long, default_value_t = 200)]
        iterations: usize,
    },
    /// Measure the latency `tollgate serve` adds (auth + reserve + forward + settle + log) at
    /// fixed request rates, from this process, against the stub upstream in another, on an empty
    /// scratch database.
    Gateway {
        /// The `tollgate` binary to measure.
        #[arg(long)]
        tollgate: PathBuf,
        /// Requests per second, sent on a fixed schedule whatever the answers' speed.
        #[arg(long, value_delimiter = ',', default_value = "200,1000")]
        rates: Vec<u64>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Set every limit (each high enough to admit every request): a key budget and a member
        /// budget, requests and tokens per minute on the key and its team, and the key limited
        /// to the benchmark's model — so each request is also held in three budgets and passes
        /// the model check and four rate buckets.
        #[arg(long)]
        every_limit: bool,
        /// Also time requests of a second team checked against this many guardrails (none
        /// matching), with a realistic conversation for every row.
        #[arg(long, default_value_t = 0)]
        guardrails: usize,
    },
    /// Measure how soon `tollgate serve` refuses a key another process revoked, and the
    /// database transactions it makes while idle, on an empty scratch database.
    Access {
        /// The `tollgate` binary to measure.
        #[arg(long)]
        tollgate: PathBuf,
        #[arg(long, default_value_t = 100)]
        rounds: usize,
        #[arg(long, default_value_t = 20)]
        idle_seconds: u64,
    },
    /// Serve the stub upstream (an OpenAI-shaped provider that answers at once) until stopped.
    Stub {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _log = tollgate::logging::init(std::io::stderr(), std::io::stderr().is_terminal());
    let config = &cli.config;
    let done = match cli.command {
        Command::Users {
            users,
            teams,
            iterations,
        } => users::bench_users(config, users, teams, iterations).await,
        Command::Teams {
            teams,
            users,
            iterations,
        } => teams::bench_teams(config, teams, users, iterations).await,
        Command::Usage {
            teams,
            users,
            iterations,
        } => usage::bench_usage(config, teams, users, iterations).await,
        Command::Audit {
            entries,
            iterations,
        } => audit::bench_audit(config, entries, iterations).await,
        Command::Gateway {
            tollgate,
            rates,
            seconds,
            every_limit,
            guardrails,
        } => {
            let options = gateway::Options {
                rates,
                seconds,
                every_limit,
                guardrails,
            };
            gateway::bench_gateway(config, &tollgate, &options).await
        }
        Command::Access {
            tollgate,
            rounds,
            idle_seconds,
        } => access::bench_access(config, &tollgate, rounds, idle_seconds).await,
        Command::Stub { listen } => serve_stub(&listen).await,
    };
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the stub upstream on `listen` until the process is stopped.
async fn serve_stub(listen: &str) -> Result<(), StartupError> {
    let stub = stub_upstream::start_on(listen)
        .await
        .map_err(|source| StartupError::Listen {
            addr: listen.to_owned(),
            source,
        })?;
    println!("stub upstream on {}", stub.base_url());
    std::future::pending::<()>().await;
    Ok(())
}

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
async fn settle(
    config: &Config,
    db: &domain::db::DatabaseConnection,
) -> Result<&'static str, StartupError> {
    domain::service::seed::settle(db)
        .await
        .map_err(StartupError::Setup)?;
    Ok(backend(config))
}

/// The database `config` names, for the reports.
fn backend(config: &Config) -> &'static str {
    if config.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// The `p`-th quantile (0–1, nearest rank) of `samples`, as a lookup function.
fn percentiles(mut samples: Vec<f64>) -> impl Fn(f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    move |p: f64| {
        if samples.is_empty() {
            return f64::NAN;
        }
        let rank = (samples.len() as f64 * p).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1]
    }
}

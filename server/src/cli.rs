//! The command line: `serve` (the default) and `migrate`.

use crate::config::Config;
use clap::{Parser, Subcommand};

/// Tollgate: the access console of a self-hosted AI gateway.
///
/// Every setting comes from an environment variable (or the matching flag); see the README's
/// configuration table.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the console on the listen address (the default).
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Add demo data: users spread over teams (the first an Owner, with a random password printed
    /// once). For demos and benchmarks only, never on a real gateway.
    Seed {
        #[arg(long, default_value_t = 100)]
        users: u64,
        #[arg(long, default_value_t = 10)]
        teams: u64,
    },
    /// Time the users list per query shape (p50/p95/p99), seeding first if the database holds
    /// fewer users than asked. Point DATABASE_URL at a scratch database.
    BenchUsers {
        #[arg(long, default_value_t = 100_000)]
        users: u64,
        #[arg(long, default_value_t = 1_000)]
        teams: u64,
        #[arg(long, default_value_t = 200)]
        iterations: usize,
    },
    /// Time the teams list per query shape (p50/p95/p99), seeding first if the database holds
    /// fewer teams than asked. Point DATABASE_URL at a scratch database.
    BenchTeams {
        #[arg(long, default_value_t = 10_000)]
        teams: u64,
        #[arg(long, default_value_t = 100_000)]
        users: u64,
        #[arg(long, default_value_t = 200)]
        iterations: usize,
    },
    /// Measure the latency the gateway adds (auth + reserve + forward + settle) at a fixed
    /// request rate, against a stub upstream on loopback, on an empty scratch database.
    BenchGateway {
        /// Requests per second, sent on a fixed schedule whatever the answers' speed.
        #[arg(long, default_value_t = 1_000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

/// What can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot open the database {url}: {source}")]
    Database {
        url: String,
        source: domain::db::DbErr,
    },
    #[error("cannot migrate the database: {0}")]
    Migrate(domain::db::DbErr),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(domain::Error),
    #[error("cannot use the mail settings: {0}")]
    Mail(String),
    #[error("cannot open the settlement journal {path} (see the log for why)")]
    Journal { path: String },
    #[error("cannot use the providers file {0}")]
    Providers(#[from] crate::gateway::catalog::CatalogError),
}

impl Cli {
    /// Runs the chosen command.
    ///
    /// # Errors
    /// [`CliError`] saying what stopped it.
    pub async fn run(self) -> Result<(), CliError> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::serve::serve(self.config).await,
            Command::Seed { users, teams } => {
                let db = crate::serve::open_database(&self.config).await?;
                let seeded = domain::service::seed::seed(&db, users, teams)
                    .await
                    .map_err(CliError::Setup)?;
                domain::service::seed::settle(&db)
                    .await
                    .map_err(CliError::Setup)?;
                // The one place the password is shown: only its hash is stored.
                println!(
                    "added {} users and {} teams; sign in as {} with password {}",
                    seeded.users,
                    seeded.teams,
                    seeded.owner_email,
                    seeded.owner_password.expose()
                );
                db.close().await.ok();
                Ok(())
            }
            Command::BenchUsers {
                users,
                teams,
                iterations,
            } => crate::bench::users::bench_users(&self.config, users, teams, iterations).await,
            Command::BenchTeams {
                teams,
                users,
                iterations,
            } => crate::bench::teams::bench_teams(&self.config, teams, users, iterations).await,
            Command::BenchGateway { rate, seconds } => {
                crate::bench::gateway::bench_gateway(&self.config, rate, seconds).await
            }
            Command::Migrate => {
                let db = crate::serve::open_database(&self.config).await?;
                tracing::info!("database schema is up to date");
                db.close().await.ok();
                Ok(())
            }
        }
    }
}

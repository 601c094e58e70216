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
}

impl Cli {
    /// Runs the chosen command.
    ///
    /// # Errors
    /// [`CliError`] saying what stopped it.
    pub async fn run(self) -> Result<(), CliError> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::serve::serve(self.config).await,
            Command::Migrate => {
                let db = crate::serve::open_database(&self.config).await?;
                tracing::info!("database schema is up to date");
                db.close().await.ok();
                Ok(())
            }
        }
    }
}

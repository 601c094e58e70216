//! The command line of `tollgate`: `serve` (the default), `migrate`, `seed` and
//! `export-config`. The benchmarks
//! are another binary, `tollgate-bench` (`src/bin/tollgate-bench/`).

use crate::config::Config;
use crate::startup_error::StartupError;
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
    /// Print the providers (from the database) and the models (from TOLLGATE_PROVIDERS) as a
    /// providers file, without keys: each names the environment variable its key is read from.
    ExportConfig {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
}

impl Cli {
    /// Whether the command's output is its standard output (so the log must go elsewhere).
    pub fn prints_to_stdout(&self) -> bool {
        matches!(self.command, Some(Command::ExportConfig { output: None }))
    }

    /// Runs the chosen command.
    ///
    /// # Errors
    /// [`StartupError`] saying what stopped it.
    pub async fn run(self) -> Result<(), StartupError> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::serve::serve(self.config).await,
            Command::Seed { users, teams } => {
                let db = crate::serve::open_database(&self.config).await?;
                let seeded = domain::service::seed::seed(&db, users, teams)
                    .await
                    .map_err(StartupError::Setup)?;
                domain::service::seed::settle(&db)
                    .await
                    .map_err(StartupError::Setup)?;
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
            Command::ExportConfig { output } => {
                let text = crate::export_config::export(&self.config).await?;
                match output {
                    Some(path) => std::fs::write(&path, text)
                        .map_err(|e| StartupError::Export(format!("{}: {e}", path.display())))?,
                    None => print!("{text}"),
                }
                Ok(())
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

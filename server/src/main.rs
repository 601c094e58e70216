//! `tollgate`: the access console and gateway server. See `tollgate --help`.

use clap::Parser;
use std::io::IsTerminal;
use tollgate::cli::Cli;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // `export-config` prints a file on standard output: its log goes to standard error.
    let _log = if cli.prints_to_stdout() {
        tollgate::logging::init(std::io::stderr(), std::io::stderr().is_terminal())
    } else {
        tollgate::logging::init(std::io::stdout(), std::io::stdout().is_terminal())
    };
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            std::process::ExitCode::FAILURE
        }
    }
}

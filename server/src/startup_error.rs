//! What can stop a command of either binary before or while it serves: the database, the listen
//! address, the mail settings, the providers file, the journal. Its own module so the command
//! line, start-up and the benchmarks all depend on it and it on none of them.

/// What can stop a command.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
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
    Providers(#[from] crate::providers_file::ProvidersFileError),
    #[error("cannot apply the providers file to the database: {0}")]
    ApplyProviders(domain::Error),
    #[error("cannot use the secret key: {0}")]
    SecretKey(String),
    #[error("cannot write the configuration: {0}")]
    Export(String),
    #[error("cannot use the single sign-on settings: {0}")]
    Sso(#[from] crate::sso::env::SsoEnvError),
}

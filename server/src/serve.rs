//! Start-up: open and migrate the database, print the setup link on first start, serve.

use crate::config::Config;
use crate::gateway::GatewayState;
use crate::providers_file::ProvidersFile;
use crate::router::{self, AppState};
use crate::startup_error::StartupError;
use app::context::ServerContext;
use domain::db::DatabaseConnection;
use domain::sealing::{DataKey, Sealer};
use domain::service::ledger::Ledger;
use domain::service::providers;
use domain::service::{leases, ledger, session, setup, sign_in, usage_windows};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Opens the database named by the configuration (creating a SQLite file's directory) and
/// migrates it.
///
/// # Errors
/// [`StartupError`] when the directory, the connection or a migration fails.
pub async fn open_database(config: &Config) -> Result<DatabaseConnection, StartupError> {
    if let Some(dir) = sqlite_dir(&config.database_url) {
        std::fs::create_dir_all(&dir).map_err(|source| StartupError::DataDir {
            path: dir.clone(),
            source,
        })?;
    }
    let db = domain::db::connect(&config.database_url)
        .await
        .map_err(|source| StartupError::Database {
            url: redact(&config.database_url),
            source,
        })?;
    domain::db::migrate(&db)
        .await
        .map_err(StartupError::Migrate)?;
    Ok(db)
}

/// The file of a `sqlite://` URL, if it names one.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The directory of a `sqlite://` file URL, if it has one.
fn sqlite_dir(url: &str) -> Option<String> {
    let file = sqlite_file(url)?;
    let parent = file.parent()?.to_string_lossy().into_owned();
    (!parent.is_empty()).then_some(parent)
}

/// The gateway's ledger for this configuration: journaled on SQLite.
///
/// # Errors
/// [`StartupError::Journal`] when the journal cannot be opened or replayed.
pub async fn ledger(config: &Config, db: DatabaseConnection) -> Result<Ledger, StartupError> {
    match journal_path(&config.database_url) {
        Some(path) => Ledger::start_journaled(db, &path)
            .await
            .map_err(|_| StartupError::Journal {
                path: path.display().to_string(),
            }),
        None => Ok(Ledger::start(db)),
    }
}

/// Where the gateway journals settlements before writing them: beside a SQLite file (one
/// machine, so a restarted process finds it). On PostgreSQL settlements are written behind
/// without a journal.
fn journal_path(url: &str) -> Option<PathBuf> {
    let file = sqlite_file(url)?;
    let mut name = file.file_name()?.to_os_string();
    name.push("-ledger");
    Some(file.with_file_name(name))
}

/// What seals upstream keys: `TOLLGATE_SECRET_KEY` (and the previous key while rotating), else
/// for a SQLite file a key kept beside it, made on first start; for an in-memory database a key
/// that lives as long as the process (as does the data).
///
/// # Errors
/// [`StartupError::SecretKey`] for a key that is not one, a key file that cannot be used, or
/// PostgreSQL without the variable.
async fn sealer(config: &Config, db: &DatabaseConnection) -> Result<Sealer, StartupError> {
    let parse = |var: &str, text: &str| {
        DataKey::parse(text).map_err(|e| StartupError::SecretKey(format!("{var} {e}")))
    };
    let previous = config
        .secret_key_previous
        .as_deref()
        .map(|k| parse("TOLLGATE_SECRET_KEY_PREVIOUS", k))
        .transpose()?;
    let current = match (&config.secret_key, sqlite_file(&config.database_url)) {
        (Some(key), _) => parse("TOLLGATE_SECRET_KEY", key)?,
        (None, Some(file)) => {
            let mut name = file.file_name().unwrap_or_default().to_os_string();
            name.push(".key");
            let path = file.with_file_name(name);
            // A database holding sealed keys had a key file: making a new one would leave them
            // unreadable and the old one harder to put back.
            if !path.exists()
                && providers::any_sealed(db)
                    .await
                    .map_err(StartupError::ApplyProviders)?
            {
                return Err(StartupError::SecretKey(format!(
                    "{} is missing, but the database holds provider keys sealed under it: put \
                     it back (from the backup of the database), or set TOLLGATE_SECRET_KEY to it",
                    path.display()
                )));
            }
            DataKey::load_or_create(&path).map_err(StartupError::SecretKey)?
        }
        (None, None) if config.database_url.starts_with("sqlite:") => DataKey::generate(),
        (None, None) => {
            return Err(StartupError::SecretKey(
                "set TOLLGATE_SECRET_KEY (e.g. `openssl rand -hex 32`) when the database is \
                 PostgreSQL: every process must seal and open upstream keys with the same key"
                    .to_owned(),
            ));
        }
    };
    Ok(Sealer::new(current, previous))
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The router state for this configuration and database. Starts the gateway's ledger (replaying
/// a SQLite journal a killed process left) and access watch: call inside the runtime.
///
/// # Errors
/// [`StartupError`] when the providers file, the mail settings or the journal cannot be used.
pub async fn app_state(config: &Config, db: DatabaseConnection) -> Result<AppState, StartupError> {
    let sealer = Arc::new(sealer(config, &db).await?);
    let known = providers::names(&db)
        .await
        .map_err(StartupError::ApplyProviders)?;
    let file = match &config.providers {
        Some(path) => ProvidersFile::load(path, &known)?,
        None => ProvidersFile::default(),
    };
    // The file's providers' keys come from the environment, so they are sealed afresh whatever
    // data key they were sealed under before.
    file.apply(&db, &sealer)
        .await
        .map_err(StartupError::ApplyProviders)?;
    let resealed = providers::reseal(&db, &sealer)
        .await
        .map_err(StartupError::ApplyProviders)?;
    if resealed.count > 0 {
        tracing::info!(
            "sealed {} provider keys again under the new secret key",
            resealed.count
        );
    }
    if !resealed.unreadable.is_empty() {
        tracing::error!(
            "the keys of {} do not open with TOLLGATE_SECRET_KEY (nor TOLLGATE_SECRET_KEY_PREVIOUS): \
             their models are not served until the key they were sealed under is given, or the \
             key is entered again on the Providers page",
            resealed.unreadable.join(", ")
        );
    }
    config.sso.apply(&db, &sealer).await?;
    match domain::service::sso::reseal(&db, &sealer).await {
        Ok(true) => {
            tracing::info!("sealed the single sign-on client secret again under the new secret key")
        }
        Ok(false) => {}
        Err(_) => tracing::error!(
            "the single sign-on client secret does not open with TOLLGATE_SECRET_KEY (nor \
             TOLLGATE_SECRET_KEY_PREVIOUS): sign-ins with it fail until it is entered again on \
             the Single sign-on page"
        ),
    }
    let relying_party = crate::sso::relying_party();
    let smtp = crate::mail::SmtpMailer::from_config(config)?;
    let alerts = crate::alerts::Notifier::new(smtp.clone(), config.public_url())?;
    let mailer = smtp.map(|m| std::sync::Arc::new(m) as std::sync::Arc<dyn app::context::Mailer>);
    let leptos_options = config.leptos_options();
    Ok(AppState {
        site: crate::site::Site::find(
            &leptos_options.site_root,
            &leptos_options.site_pkg_dir,
            &leptos_options.output_name,
        ),
        leptos_options,
        server: ServerContext {
            db: db.clone(),
            sessions: config.session_policy(),
            secure_cookies: url::Url::parse(&config.public_url())
                .is_ok_and(|url| url.scheme() == "https"),
            public_url: config.public_url(),
            mailer,
            trusted_proxies: config.trusted_proxies.clone(),
            sealer: Arc::clone(&sealer),
            prober: Arc::new(crate::gateway::probe::HttpProber::default()),
            notifier: Some(std::sync::Arc::new(alerts.clone())),
            sso_tester: relying_party.clone(),
        },
        sso: relying_party,
        alerts,
        gateway: GatewayState {
            max_body: config.max_request_bytes,
            ..GatewayState::new(db.clone(), sealer, ledger(config, db.clone()).await?)
        },
        db,
        public_origin: config.public_origin(),
    })
}

/// Serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// [`StartupError`] when the database or the listen address cannot be used.
pub async fn serve(config: Config) -> Result<(), StartupError> {
    let db = open_database(&config).await?;
    let state = app_state(&config, db.clone()).await?;
    if let Some(token) = setup::issue_token(&db).await.map_err(StartupError::Setup)? {
        // The link holds a one-time token that makes its holder the Owner: it goes to the
        // operator's terminal once, never into the log (which may be shipped and kept).
        let link = format!("{}/setup?token={}", config.public_url(), token.expose());
        tracing::warn!("No users yet. The one-time setup link is printed on the terminal.");
        println!("Tollgate setup link (one-time): {link}");
    }
    // The Usage page's rolling windows end today before anything is served: on the first start
    // after an upgrade they are built from the day rows (seconds at a big gateway).
    let started = std::time::Instant::now();
    match usage_windows::keep_up(&db, chrono::Utc::now()).await {
        Ok(moved) if !moved.is_empty() => tracing::info!(
            "usage windows ready in {} ms",
            started.elapsed().as_millis()
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("could not move the usage windows on: {e}"),
    }
    spawn_session_purge(db.clone());
    spawn_lease_sweep(db.clone());
    spawn_window_upkeep(db.clone());
    state.alerts.clone().spawn(db.clone());
    let ledger = state.gateway.ledger.clone();
    let running = std::sync::Arc::clone(&state.gateway.running);

    let app = router::app(state);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartupError::Listen {
            addr: config.listen.to_string(),
            source,
        })?;
    tracing::info!(
        "Tollgate is listening on http://{} (dashboard: {}/dashboard)",
        config.listen,
        config.public_url()
    );
    let read_timeout = Duration::from_secs(config.read_timeout_seconds);
    crate::listen::serve(listener, app, read_timeout, shutdown_signal()).await;
    // Exchanges whose clients left are still reading their upstreams: they settle first (each
    // within its provider's timeout), then what was settled is written and the slices are
    // given back before the process ends.
    running.finished().await;
    if let Err(e) = ledger.flush().await {
        tracing::error!("could not write the last settlements: {e}");
    }
    Ok(())
}

/// Deletes expired sessions and closed sign-in failure windows every hour; lookups already
/// ignore them, this only keeps the tables small.
fn spawn_session_purge(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(e) = session::purge_expired(&db).await {
                tracing::warn!("could not purge expired sessions: {e}");
            }
            if let Err(e) = sign_in::purge_expired(&db).await {
                tracing::warn!("could not purge old sign-in failures: {e}");
            }
        }
    });
}

/// Gives back, every minute (and at start), budget leases nobody renewed for
/// [`ledger::STALE_AFTER`] by the database's clock: those of a process that died. A live
/// process renews its own every [`ledger::RENEW_EVERY`].
fn spawn_lease_sweep(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            match leases::release_stale(&db, ledger::STALE_AFTER).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!("gave back {n} budget leases of a process that stopped"),
                Err(e) => tracing::warn!("could not sweep stale budget leases: {e}"),
            }
        }
    });
}

/// Keeps the Usage page's rolling windows ending today, every minute, so a gateway that serves
/// nothing after midnight still reads its last 7, 30 and 90 days from them.
fn spawn_window_upkeep(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(e) = usage_windows::keep_up(&db, chrono::Utc::now()).await {
                tracing::warn!("could not move the usage windows on: {e}");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_sqlite_directory() {
        assert_eq!(
            sqlite_dir("sqlite://data/tollgate.db?mode=rwc").as_deref(),
            Some("data")
        );
        assert_eq!(
            sqlite_dir("sqlite:///var/lib/t/t.db").as_deref(),
            Some("/var/lib/t")
        );
        assert_eq!(sqlite_dir("sqlite://t.db"), None);
        assert_eq!(sqlite_dir("postgres://u:p@h/db"), None);
        assert_eq!(
            journal_path("sqlite://data/tollgate.db?mode=rwc"),
            Some(PathBuf::from("data/tollgate.db-ledger"))
        );
        assert_eq!(journal_path("sqlite::memory:"), None);
        assert_eq!(journal_path("postgres://u:p@h/db"), None);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    }
}

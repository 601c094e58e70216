//! The processes the gateway benchmarks measure from outside: the stub upstream
//! (`tollgate-bench stub`, this binary again) and the release `tollgate serve`, each on a free
//! loopback port, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};
use tollgate::startup_error::StartupError;

/// A benchmark's processes: the stub upstream, and `tollgate serve` in front of it with the
/// providers file and its log in a scratch directory (removed when dropped).
pub struct Started {
    pub stub: Running,
    pub gateway: Running,
    pub log: PathBuf,
    scratch: PathBuf,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Starts the stub and the `tollgate` binary at `tollgate` on `database_url` (which it
/// migrates as it starts).
///
/// # Errors
/// [`StartupError`] when a directory, a port or a process cannot be had.
pub async fn start(tollgate: &Path, database_url: &str) -> Result<Started, StartupError> {
    let scratch = std::env::temp_dir().join(format!("tollgate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(failed)?;
    let stub = stub().await.map_err(failed)?;
    let providers = providers_file(&scratch, &stub.addr).map_err(failed)?;
    let log = scratch.join("tollgate.log");
    let gateway = self::tollgate(tollgate, database_url, &providers, &log)
        .await
        .map_err(failed)?;
    Ok(Started {
        stub,
        gateway,
        log,
        scratch,
    })
}

/// A benchmark's own failure (a process, a port, a request), as a start-up error.
pub fn failed(source: impl Into<std::io::Error>) -> StartupError {
    StartupError::Listen {
        addr: "127.0.0.1".into(),
        source: source.into(),
    }
}

/// The stub's API key variable, named in the providers file the benchmark writes.
const UPSTREAM_KEY_ENV: &str = "TOLLGATE_BENCH_UPSTREAM_KEY";

/// A child process, killed when dropped unless [`Running::stop`] ended it first.
pub struct Running {
    pub child: Child,
    pub addr: String,
}

impl Running {
    /// SIGTERM, then waits for the exit (a `tollgate` writes its last settlements first).
    pub async fn stop(&mut self) -> std::io::Result<()> {
        if let Some(pid) = self.child.id() {
            Command::new("kill").arg(pid.to_string()).status().await?;
        }
        self.child.wait().await.map(|_| ())
    }
}

/// A loopback address with a port nobody holds right now.
pub fn free_addr() -> std::io::Result<String> {
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(probe.local_addr()?.to_string())
}

/// `tollgate-bench stub` in a process of its own.
pub async fn stub() -> std::io::Result<Running> {
    let addr = free_addr()?;
    let child = Command::new(std::env::current_exe()?)
        .args(["stub", "--listen", &addr])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let running = Running { child, addr };
    wait_for(&format!("http://{}/healthz", running.addr)).await?;
    Ok(running)
}

/// The model's prices in the providers file.
pub const INPUT_USD_PER_MTOK: f64 = 0.15;
pub const OUTPUT_USD_PER_MTOK: f64 = 0.60;

/// The providers file for `tollgate`: one model, `bench`, on the stub at `stub_addr`.
pub fn providers_file(dir: &Path, stub_addr: &str) -> std::io::Result<PathBuf> {
    let path = dir.join("providers.toml");
    std::fs::write(
        &path,
        format!(
            "[[providers]]\nname = \"stub\"\nbase_url = \"http://{stub_addr}/v1\"\n\
             api_key_env = \"{UPSTREAM_KEY_ENV}\"\n\n[[models]]\nname = \"bench\"\n\
             provider = \"stub\"\ninput_usd_per_mtok = {INPUT_USD_PER_MTOK}\n\
             output_usd_per_mtok = {OUTPUT_USD_PER_MTOK}\nmax_output_tokens = 16384\n"
        ),
    )?;
    Ok(path)
}

/// `tollgate serve` (the binary at `tollgate`) on `database_url` with `providers`, its output —
/// the log, one line a request — written to `log`.
pub async fn tollgate(
    tollgate: &Path,
    database_url: &str,
    providers: &Path,
    log: &Path,
) -> std::io::Result<Running> {
    let addr = free_addr()?;
    let output = std::fs::File::create(log)?;
    let child = Command::new(tollgate)
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("TOLLGATE_LISTEN", &addr)
        .env("TOLLGATE_PROVIDERS", providers)
        .env(UPSTREAM_KEY_ENV, "sk-bench-upstream")
        // A data key for sealing provider keys, which PostgreSQL requires.
        .env(
            "TOLLGATE_SECRET_KEY",
            "9b8a7c6d5e4f30211f2e3d4c5b6a79880f1e2d3c4b5a69788796a5b4c3d2e1f0",
        )
        .stdout(output.try_clone()?)
        .stderr(output)
        .kill_on_drop(true)
        .spawn()?;
    let running = Running { child, addr };
    wait_for(&format!("http://{}/healthz", running.addr)).await?;
    Ok(running)
}

/// Waits until `url` answers 200 (ten seconds at most).
async fn wait_for(url: &str) -> std::io::Result<()> {
    for _ in 0..200 {
        if reqwest::get(url).await.is_ok_and(|r| r.status() == 200) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(std::io::Error::other(format!("{url} did not answer")))
}

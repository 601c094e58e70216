//! `tollgate-bench gateway`: the latency the gateway adds. Starts the stub upstream and the
//! gateway (the same router the binary serves) on loopback, sends chat requests on a fixed
//! schedule — first straight to the stub, then through the gateway with a key in a team with a
//! limit, so every request is authenticated, reserved, forwarded, settled and metered — and
//! prints p50/p95/p99 of both and their difference.

use crate::fixture::prepare;
use crate::stub_upstream;
use std::time::{Duration, Instant};
use tollgate::gateway::catalog::Catalog;
use tollgate::startup_error::StartupError;

/// Runs the benchmark.
///
/// # Errors
/// [`StartupError`] when the database, the stub or the gateway cannot be started.
pub async fn bench_gateway(
    config: &tollgate::config::Config,
    rate: u64,
    seconds: u64,
) -> Result<(), StartupError> {
    let db = tollgate::serve::open_database(config).await?;
    let (_, key) = prepare(&db, "1000000").await?;
    let listen_error = |source| StartupError::Listen {
        addr: "127.0.0.1:0".into(),
        source,
    };
    let stub = stub_upstream::start().await.map_err(listen_error)?;
    let providers = format!(
        "[[providers]]\nname = \"stub\"\nbase_url = \"{}\"\n\n[[models]]\nname = \"bench\"\n\
         provider = \"stub\"\ninput_usd_per_mtok = 0.15\noutput_usd_per_mtok = 0.60\n\
         max_output_tokens = 16384\n",
        stub.base_url()
    );
    let catalog = Catalog::parse("bench providers", &providers, |_| None)?;
    // As `tollgate serve` runs it (journaled on SQLite), in front of the stub.
    let mut state = tollgate::serve::app_state(config, db.clone()).await?;
    state.gateway.catalog = std::sync::Arc::new(catalog);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(listen_error)?;
    let gateway = listener.local_addr().map_err(listen_error)?;
    let app = tollgate::router::app(state);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()
        .unwrap_or_default();
    let body = serde_json::json!({
        "model": "bench",
        "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
        "max_tokens": 64
    })
    .to_string();
    let direct = Target {
        url: format!("{}/chat/completions", stub.base_url()),
        key: None,
    };
    let through = Target {
        url: format!("http://{gateway}/v1/chat/completions"),
        key: Some(key),
    };
    // Warm both paths (connections, caches, the database's pages).
    run(&http, &direct, &body, rate, 1).await;
    run(&http, &through, &body, rate, 1).await;
    let backend = if config.database_url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "gateway on {backend}: {rate} requests/s for {seconds} s per path, client-side ms \
         (stub upstream answers at once)"
    );
    let stub_only = run(&http, &direct, &body, rate, seconds).await;
    let gateway = run(&http, &through, &body, rate, seconds).await;
    let (stub_only, gateway) = (stub_only.summary(), gateway.summary());
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8}",
        "path", "p50", "p95", "p99", "errors"
    );
    for (name, s) in [
        ("stub directly", &stub_only),
        ("through the gateway", &gateway),
    ] {
        println!(
            "{name:<34} {:>8.3} {:>8.3} {:>8.3} {:>8}",
            s.p50, s.p95, s.p99, s.errors
        );
    }
    println!(
        "{:<34} {:>8.3} {:>8.3} {:>8.3}",
        "added by the gateway",
        gateway.p50 - stub_only.p50,
        gateway.p95 - stub_only.p95,
        gateway.p99 - stub_only.p99
    );
    println!(
        "(added = the difference of the two distributions, measured one after the other: where \
         the stub's own tail is noisier than the gateway's, a tail difference can come out \
         negative)"
    );
    println!("upstream requests served by the stub: {}", stub.requests());
    // The database stays open: the gateway's ledger and access watch run until the process ends.
    Ok(())
}

struct Target {
    url: String,
    key: Option<String>,
}

struct Samples {
    ms: Vec<f64>,
    errors: usize,
}

struct Summary {
    p50: f64,
    p95: f64,
    p99: f64,
    errors: usize,
}

impl Samples {
    fn summary(self) -> Summary {
        let pct = crate::percentiles(self.ms);
        Summary {
            p50: pct(0.50),
            p95: pct(0.95),
            p99: pct(0.99),
            errors: self.errors,
        }
    }
}

/// Sends `rate` requests a second for `seconds`, on schedule (open loop: a slow answer does
/// not delay the next request), and times each.
async fn run(
    http: &reqwest::Client,
    target: &Target,
    body: &str,
    rate: u64,
    seconds: u64,
) -> Samples {
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = Vec::new();
    for _ in 0..rate * seconds {
        tick.tick().await;
        let mut request = http
            .post(&target.url)
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(key) = &target.key {
            request = request.bearer_auth(key);
        }
        sent.push(tokio::spawn(async move {
            let started = Instant::now();
            let ok = match request.send().await {
                Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                Err(_) => false,
            };
            (started.elapsed().as_secs_f64() * 1000.0, ok)
        }));
    }
    let mut samples = Samples {
        ms: Vec::with_capacity(sent.len()),
        errors: 0,
    };
    for handle in sent {
        match handle.await {
            Ok((ms, true)) => samples.ms.push(ms),
            _ => samples.errors += 1,
        }
    }
    samples
}

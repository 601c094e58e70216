//! The load generator of the gateway benchmarks: requests sent on a fixed schedule (open loop —
//! a slow answer never delays the next request, so queueing shows in the figures instead of
//! being hidden by a client that waits), each timed from send to the last byte of its answer.

use std::time::{Duration, Instant};

/// Where the requests go.
pub struct Target {
    pub url: String,
    /// Sent as `Authorization: Bearer`.
    pub key: Option<String>,
    /// A JSON body to POST; `None` sends GET.
    pub body: Option<String>,
}

/// Latency percentiles in milliseconds, and the requests that failed (not 2xx, or no answer).
pub struct Summary {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub ok: usize,
    pub errors: usize,
}

/// A client that keeps its connections, as an SDK would.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .build()
        .unwrap_or_default()
}

/// Sends `rate` requests a second to `target` for `seconds`, on schedule, and times each.
pub async fn run(http: &reqwest::Client, target: &Target, rate: u64, seconds: u64) -> Summary {
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = Vec::new();
    for _ in 0..rate * seconds {
        tick.tick().await;
        let mut request = match &target.body {
            Some(body) => http
                .post(&target.url)
                .header("content-type", "application/json")
                .body(body.clone()),
            None => http.get(&target.url),
        };
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
    let mut ms = Vec::with_capacity(sent.len());
    let mut errors = 0;
    for handle in sent {
        match handle.await {
            Ok((took, true)) => ms.push(took),
            _ => errors += 1,
        }
    }
    let ok = ms.len();
    let pct = crate::percentiles(ms);
    Summary {
        p50: pct(0.50),
        p95: pct(0.95),
        p99: pct(0.99),
        ok,
        errors,
    }
}

//! `tollgate-bench gateway`: the latency the gateway adds, measured as a client sees it. Three
//! processes: this one sends the requests (open loop, `load.rs`), the stub upstream answers in
//! its own (`tollgate-bench stub`), and the release `tollgate serve` sits between them with a
//! key in a team with a limit — every request authenticated, reserved, forwarded, settled,
//! metered and logged. At each rate it times chat requests straight to the stub and through
//! the gateway (and `GET /v1/models`, which never leaves the gateway), prints p50/p95/p99 and
//! the difference, then stops the gateway and checks that what was metered is exactly what
//! was answered.

use crate::fixture::prepare_with_owner;
use crate::load::{self, Target};
use crate::processes;
use domain::entity::usage_team_month;
use domain::pricing::{Price, Usage};
use domain::service::month_key;
use sea_orm::EntityTrait;
use std::path::Path;
use tollgate::startup_error::StartupError;

/// What one request costs: the stub's usage (10 tokens in, 5 out) at the prices of
/// [`processes::providers_file`].
fn cost_micros() -> i64 {
    let price = Price::from_usd_per_mtok(
        processes::INPUT_USD_PER_MTOK,
        processes::OUTPUT_USD_PER_MTOK,
    )
    .expect("the benchmark's prices are valid");
    price
        .cost(Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
        })
        .micros()
}

/// What to measure.
pub struct Options {
    /// Requests per second, one row each.
    pub rates: Vec<u64>,
    pub seconds: u64,
    /// Every limit set on the key and its team.
    pub every_limit: bool,
    /// Guardrails checked for a second team's key (0: none, and no such rows).
    pub guardrails: usize,
}

/// Runs the benchmark against the `tollgate` binary at `tollgate`, on the scratch database of
/// `config`.
///
/// # Errors
/// [`StartupError`] when the database or a process cannot be started.
pub async fn bench_gateway(
    config: &tollgate::config::Config,
    tollgate: &Path,
    options: &Options,
) -> Result<(), StartupError> {
    let Options {
        ref rates,
        seconds,
        every_limit,
        guardrails,
    } = *options;
    // The gateway migrates the database as it starts; the key is added after.
    let mut started = processes::start(tollgate, &config.database_url).await?;
    let db = tollgate::serve::open_database(config).await?;
    let (owner, team, key) = prepare_with_owner(&db, "1000000").await?;
    if every_limit {
        limit_everything(&db, &owner, team, &key).await?;
    }
    let guarded = if guardrails > 0 {
        Some(crate::guardrails::guarded_team(&db, &owner, guardrails).await?)
    } else {
        None
    };

    let http = load::client();
    let chat = if guarded.is_some() {
        crate::guardrails::conversation()
    } else {
        serde_json::json!({
            "model": "bench",
            "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
            "max_tokens": 64
        })
    }
    .to_string();
    let direct = Target {
        url: format!("http://{}/v1/chat/completions", started.stub.addr),
        key: None,
        body: Some(chat.clone()),
    };
    let through = Target {
        url: format!("http://{}/v1/chat/completions", started.gateway.addr),
        key: Some(key.clone()),
        body: Some(chat.clone()),
    };
    let checked = guarded.as_ref().map(|(_, key)| Target {
        url: format!("http://{}/v1/chat/completions", started.gateway.addr),
        key: Some(key.clone()),
        body: Some(chat),
    });
    let models = Target {
        url: format!("http://{}/v1/models", started.gateway.addr),
        key: Some(key),
        body: None,
    };
    let backend = crate::backend(config);
    println!(
        "gateway on {backend}, three processes (load, stub, {}): client-side ms, {seconds} s \
         per row, open loop{}",
        tollgate.display(),
        if every_limit {
            "; key and team limited per minute, key limited to its model"
        } else {
            ""
        }
    );
    if guarded.is_some() {
        println!(
            "a 1.6 KB conversation in every request; a second team's key checked against \
             {guardrails} guardrails that do not match"
        );
    }
    println!(
        "{:>6}  {:<28} {:>8} {:>8} {:>8} {:>8}",
        "rate/s", "path", "p50", "p95", "p99", "errors"
    );
    let (mut answered, mut answered_guarded) = (0, 0);
    for &rate in rates {
        // Warm both paths (connections, caches, the database's pages).
        load::run(&http, &direct, rate, 1).await;
        answered += load::run(&http, &through, rate, 1).await.ok;
        let stub_only = load::run(&http, &direct, rate, seconds).await;
        let gateway = load::run(&http, &through, rate, seconds).await;
        answered += gateway.ok;
        if let Some(checked) = &checked {
            answered_guarded += load::run(&http, checked, rate, 1).await.ok;
            let with_rules = load::run(&http, checked, rate, seconds).await;
            answered_guarded += with_rules.ok;
            let name = format!("chat, {guardrails} guardrails");
            println!(
                "{rate:>6}  {name:<28} {:>8.3} {:>8.3} {:>8.3} {:>8}",
                with_rules.p50, with_rules.p95, with_rules.p99, with_rules.errors
            );
            println!(
                "{rate:>6}  {:<28} {:>8.3} {:>8.3} {:>8.3}",
                format!("added by {guardrails} guardrails"),
                with_rules.p50 - gateway.p50,
                with_rules.p95 - gateway.p95,
                with_rules.p99 - gateway.p99
            );
        }
        let listed = load::run(&http, &models, rate, seconds).await;
        for (name, s) in [
            ("chat, stub directly", &stub_only),
            ("chat, through the gateway", &gateway),
            ("GET /v1/models (gateway)", &listed),
        ] {
            println!(
                "{rate:>6}  {name:<28} {:>8.3} {:>8.3} {:>8.3} {:>8}",
                s.p50, s.p95, s.p99, s.errors
            );
        }
        println!(
            "{rate:>6}  {:<28} {:>8.3} {:>8.3} {:>8.3}",
            "added by the gateway",
            gateway.p50 - stub_only.p50,
            gateway.p95 - stub_only.p95,
            gateway.p99 - stub_only.p99
        );
    }
    started.gateway.stop().await.map_err(processes::failed)?;
    let mut teams = vec![(team, answered)];
    if let Some((guarded, _)) = guarded {
        teams.push((guarded, answered_guarded));
    }
    for (team, answered) in teams {
        let (spend, requests) =
            usage_team_month::Entity::find_by_id((team.0, month_key(chrono::Utc::now())))
                .one(&db)
                .await
                .map_err(|e| StartupError::Setup(e.into()))?
                .map_or((0, 0), |m| (m.spend_micros, m.requests));
        let expected = answered as i64 * cost_micros();
        println!(
            "metered: {requests} requests and {spend} µ$ for {answered} answered \
             (expected {expected} µ$) — {}",
            if requests == answered as i64 && spend == expected {
                "exact"
            } else {
                "MISMATCH"
            }
        );
    }
    println!("gateway log: {} lines", line_count(&started.log));
    Ok(())
}

/// Limits that every request passes through but none reaches: a key budget and a member budget
/// of $1,000,000 each (held like the team's limit), the most requests per minute a limit may name
/// (1,000,000, far above 1,000/s × 60) and a billion tokens, on the key and on its team, and the
/// key limited to the benchmark's one model.
async fn limit_everything(
    db: &domain::db::DatabaseConnection,
    owner: &domain::Actor,
    team: domain::TeamId,
    key: &str,
) -> Result<(), StartupError> {
    use domain::rate_limits::{KeyLimits, RateLimits};
    use domain::service::{key_limits, keys, teams};
    let rates = RateLimits {
        requests_per_minute: Some(domain::rate_limits::REQUESTS_PER_MINUTE_MAX),
        tokens_per_minute: Some(domain::rate_limits::TOKENS_PER_MINUTE_MAX),
    };
    let (rpm, tpm) = rates.fields();
    let input = domain::teams::TeamInput {
        name: "Research".into(),
        limit: "1000000".into(),
        requests_per_minute: Some(rpm),
        tokens_per_minute: Some(tpm),
        member_budget: Some("1000000".into()),
        ..Default::default()
    };
    teams::edit(db, owner, team, &input)
        .await
        .map_err(StartupError::Setup)?;
    let id = keys::authenticate(db, &domain::secret::Secret::new(key.to_owned()))
        .await
        .map_err(|e| StartupError::Setup(domain::Error::Internal(e.to_string())))?
        .key;
    let limits = KeyLimits {
        rates,
        models: Some(vec!["bench".to_owned()]),
        budget: Some(domain::money::Money::from_micros(1_000_000 * 1_000_000)),
    };
    key_limits::set(db, owner, id, limits)
        .await
        .map_err(StartupError::Setup)?;
    Ok(())
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
}

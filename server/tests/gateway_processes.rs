//! The gateway as real `tollgate serve` processes: the cap holds across two processes sharing
//! one PostgreSQL, and on SQLite a `kill -9` in the middle of load loses no settled request —
//! settlements are journaled before the answer, and the counters after a restart (which
//! replays the journal) include every request a client got an answer for. Per-minute limits are
//! each process's own: two processes admit at most twice a limit, as the README states. A
//! provider or guardrail changed from another connection is used by both on their next request.

use crate::stub_upstream::{self, StubBehaviour, StubControl, StubUsage};
use crate::support::gateway::{
    UPSTREAM_KEY, assert_admitted_exactly_the_budget, chat_at_once, chat_status, providers_toml,
    team_month,
};
use domain::db::{self, DatabaseConnection};
use domain::guardrails::GuardrailInput;
use domain::providers::ProviderInput;
use domain::rate_limits::{KeyLimits, RateLimits};
use domain::routes::{RouteInput, TargetInput};
use domain::sealing::{DataKey, Sealer};
use domain::secret::Secret;
use domain::service::{guardrails, leases, providers, routes};
use domain::service::{key_limits, keys};
use domain::{Actor, TeamId};
use sea_orm::ConnectionTrait;
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Migrates, then adds an Owner, a team limited to `limit` dollars and a key in it.
async fn prepare(db: &DatabaseConnection, limit: &str) -> (TeamId, String) {
    let (_, team, key) = prepare_with_owner(db, limit).await;
    (team, key)
}

/// [`prepare`], answering the Owner too.
async fn prepare_with_owner(db: &DatabaseConnection, limit: &str) -> (Actor, TeamId, String) {
    db::migrate(db).await.unwrap();
    crate::fixture::prepare_with_owner(db, limit).await.unwrap()
}

/// A fresh database on the PostgreSQL server of `TOLLGATE_TEST_POSTGRES_URL`: the server's
/// connection, the new database's name and URL. `None` (the test is skipped) without a server,
/// unless `TOLLGATE_REQUIRE_POSTGRES` asks for one.
async fn postgres_database() -> Option<(DatabaseConnection, String, String)> {
    let Ok(admin_url) = std::env::var("TOLLGATE_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TOLLGATE_REQUIRE_POSTGRES").is_err(),
            "TOLLGATE_REQUIRE_POSTGRES is set but TOLLGATE_TEST_POSTGRES_URL is not"
        );
        eprintln!("note: TOLLGATE_TEST_POSTGRES_URL unset; the two-process test is skipped");
        return None;
    };
    let name = format!("tollgate_procs_{}", &Secret::random().digest()[..12]);
    let admin = db::connect(&admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    Some((admin, name, url))
}

/// Drops the database [`postgres_database`] made.
async fn drop_database(admin: &DatabaseConnection, name: &str) {
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "tollgate-{}-{name}",
        &Secret::random().digest()[..12]
    ))
}

/// The data key every process of these tests seals provider keys with (PostgreSQL needs one).
const SECRET_KEY: &str = "4f1c2a9be07d3356a1e8c0d94b7f6e2a5c3d8b1f0e9a7c6d5b4a3f2e1d0c9b8a";

/// `tollgate serve` on `port` against `database_url`, with the stub as its provider.
async fn spawn(database_url: &str, providers: &PathBuf, port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("TOLLGATE_SECRET_KEY", SECRET_KEY)
        .env("TOLLGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("TOLLGATE_PROVIDERS", providers)
        .env("TOLLGATE_TEST_UPSTREAM_KEY", UPSTREAM_KEY)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start tollgate");
    let health = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..200 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("tollgate did not come up on port {port}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn providers_file(stub: &StubControl) -> PathBuf {
    let path = temp("providers.toml");
    std::fs::write(&path, providers_toml(&stub.base_url(), 30)).unwrap();
    path
}

/// Sends one chat request to the process on `port`.
async fn send(http: &reqwest::Client, port: u16, key: &str) -> u16 {
    chat_status(
        http,
        &format!("http://127.0.0.1:{port}/v1/chat/completions"),
        key,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_across_two_processes_on_postgres() {
    let Some((admin, name, url)) = postgres_database().await else {
        return;
    };
    let db = db::connect(&url).await.unwrap();
    let (team, key) = prepare(&db, "0.05").await;

    let stub = stub_upstream::start().await.unwrap();
    stub.set(StubBehaviour {
        usage: StubUsage::WorstCase,
        latency: Duration::from_millis(50),
        ..StubBehaviour::default()
    });
    let providers = providers_file(&stub);
    let ports = [free_port(), free_port()];
    let mut a = spawn(&url, &providers, ports[0]).await;
    let mut b = spawn(&url, &providers, ports[1]).await;

    let urls = ports.map(|port| format!("http://127.0.0.1:{port}/v1/chat/completions"));
    let statuses = chat_at_once(200, &urls, &key).await;
    assert_admitted_exactly_the_budget(&db, team, &statuses, 50_000).await;

    for process in [&mut a, &mut b] {
        process.kill().await.ok();
    }
    db.close().await.ok();
    drop_database(&admin, &name).await;
    std::fs::remove_file(providers).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_admit_at_most_twice_a_per_minute_limit_on_postgres() {
    let Some((admin, name, url)) = postgres_database().await else {
        return;
    };
    let db = db::connect(&url).await.unwrap();
    let (owner, _, key) = prepare_with_owner(&db, "1000").await;
    let id = keys::authenticate(&db, &Secret::new(key.clone()))
        .await
        .unwrap()
        .key;
    let limit = 20;
    let limits = KeyLimits {
        rates: RateLimits {
            requests_per_minute: Some(limit),
            tokens_per_minute: None,
        },
        models: None,
        budget: None,
    };
    key_limits::set(&db, &owner, id, limits).await.unwrap();

    let stub = stub_upstream::start().await.unwrap();
    let providers = providers_file(&stub);
    let ports = [free_port(), free_port()];
    let mut a = spawn(&url, &providers, ports[0]).await;
    let mut b = spawn(&url, &providers, ports[1]).await;

    // 100 at once, 50 to each process: each admits its own minute's 20 (and what refills
    // while the burst lasts), so the two together at most 2 × (20 + 20 · t / 60).
    let urls = ports.map(|port| format!("http://127.0.0.1:{port}/v1/chat/completions"));
    let started = std::time::Instant::now();
    let statuses = chat_at_once(100, &urls, &key).await;
    let seconds = started.elapsed().as_secs_f64();
    let admitted = statuses.iter().filter(|s| **s == 200).count() as f64;
    let limited = statuses.iter().filter(|s| **s == 429).count() as f64;
    assert_eq!(admitted + limited, 100.0, "{statuses:?}");
    let bound = 2.0 * (limit as f64 + limit as f64 * seconds / 60.0);
    assert!(
        admitted >= 2.0 * limit as f64 && admitted <= bound.floor(),
        "admitted {admitted} in {seconds:.2} s; the bound is {bound:.1}"
    );

    for process in [&mut a, &mut b] {
        process.kill().await.ok();
    }
    db.close().await.ok();
    drop_database(&admin, &name).await;
    std::fs::remove_file(providers).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_mid_load_loses_no_settled_request_on_sqlite() {
    let path = temp("kill.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = db::connect(&url).await.unwrap();
    let (team, key) = prepare(&db, "1000").await;
    let stub = stub_upstream::start().await.unwrap();
    stub.set(StubBehaviour {
        latency: Duration::from_millis(5),
        ..StubBehaviour::default()
    });
    let providers = providers_file(&stub);
    let port = free_port();
    let mut first = spawn(&url, &providers, port).await;

    // Sixteen clients send until the process dies under them.
    let http = reqwest::Client::new();
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (http, key) = (http.clone(), key.clone());
            tokio::spawn(async move {
                let mut answered = 0u64;
                while send(&http, port, &key).await == 200 {
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    first.start_kill().unwrap(); // SIGKILL
    first.wait().await.unwrap();
    let mut answered = 0;
    for c in clients {
        answered += c.await.unwrap();
    }
    assert!(answered > 50, "only {answered} requests before the kill");

    // The restarted process replays the killed one's journal before it serves.
    let mut second = spawn(&url, &providers, port).await;
    let (spent, requests, reserved) = team_month(&db, team).await;
    // Every answered request was journaled before its answer; at most one per client more
    // was journaled whose answer the kill cut off.
    assert!(
        (answered..=answered + 16).contains(&(requests as u64)),
        "{answered} answered, {requests} recorded"
    );
    // Default stub usage: 10 tokens in, 5 out = 20 µ$ each.
    assert_eq!(spent, requests * 20);
    // The killed process's lease was given back whole at the restart, not a minute later.
    assert_eq!(reserved, 0);
    assert_eq!(leases::outstanding(&db).await.unwrap(), 0);
    // And the restarted process serves and counts on (written behind, so within moments).
    assert_eq!(send(&http, port, &key).await, 200);
    let mut counted = team_month(&db, team).await.1;
    for _ in 0..100 {
        if counted == requests + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        counted = team_month(&db, team).await.1;
    }
    assert_eq!(counted, requests + 1);

    second.kill().await.ok();
    db.close().await.ok();
    for suffix in ["", "-wal", "-shm", "-ledger"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
    }
    std::fs::remove_file(providers).ok();
}

/// Sends one chat request for `model` to the process on `port`.
async fn send_for(http: &reqwest::Client, port: u16, key: &str, model: &str) -> u16 {
    let mut body = crate::support::gateway::hello();
    body["model"] = model.into();
    http.post(format!("http://127.0.0.1:{port}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// Polls the process on `port` until `done` holds after a request, for at most `within`;
/// answers how long that took.
async fn until(within: Duration, mut attempt: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < within {
        if attempt().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_route_or_guardrail_changed_elsewhere_is_used_by_both_processes_on_postgres() {
    let Some((admin, name, url)) = postgres_database().await else {
        return;
    };
    let db = db::connect(&url).await.unwrap();
    let (owner, _, key) = prepare_with_owner(&db, "1000").await;
    let stub = stub_upstream::start().await.unwrap();
    let sealer = Sealer::new(DataKey::parse(SECRET_KEY).unwrap(), None);
    let shared = |key: &str| ProviderInput {
        name: "shared".into(),
        base_url: stub.base_url(),
        api_key: key.into(),
        timeout_secs: "30".into(),
    };
    let id = providers::add(&db, &sealer, &owner, &shared("sk-first-1111"))
        .await
        .unwrap();
    let file = temp("providers.toml");
    std::fs::write(
        &file,
        providers_toml(&stub.base_url(), 30)
            + r#"
[[models]]
name = "shared-mini"
provider = "shared"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
max_output_tokens = 1000
"#,
    )
    .unwrap();
    let ports = [free_port(), free_port()];
    let mut a = spawn(&url, &file, ports[0]).await;
    let mut b = spawn(&url, &file, ports[1]).await;
    let http = reqwest::Client::new();
    for port in ports {
        assert_eq!(send_for(&http, port, &key, "shared-mini").await, 200);
        assert_eq!(
            stub.last().authorization.as_deref(),
            Some("Bearer sk-first-1111")
        );
    }

    // A new key, committed by another process (this test's connection): each process sends it
    // once it hears of the change — by LISTEN, well inside the one-second safety read.
    let rotated = shared("sk-second-2222");
    providers::edit(&db, &sealer, &owner, id, &rotated)
        .await
        .unwrap();
    for port in ports {
        let took = until(Duration::from_millis(900), async || {
            send_for(&http, port, &key, "shared-mini").await == 200
                && stub.last().authorization.as_deref() == Some("Bearer sk-second-2222")
        })
        .await;
        assert!(took.is_some(), "process on {port} still sends the old key");
        eprintln!("process on {port} used the new key after {took:?}");
    }

    // Disabled elsewhere: both refuse its model without calling the upstream.
    providers::set_enabled(&db, &owner, id, false)
        .await
        .unwrap();
    for port in ports {
        let took = until(Duration::from_millis(900), async || {
            send_for(&http, port, &key, "shared-mini").await == 404
        })
        .await;
        assert!(
            took.is_some(),
            "process on {port} still serves a disabled provider"
        );
    }
    let served = stub.requests();
    for port in ports {
        assert_eq!(send_for(&http, port, &key, "shared-mini").await, 404);
        assert_eq!(
            send_for(&http, port, &key, crate::support::gateway::MODEL).await,
            200
        );
    }
    assert_eq!(
        stub.requests(),
        served + 2,
        "only the file's model reached the stub"
    );

    // A guardrail saved elsewhere: both refuse the prompt it blocks from their next request.
    let blocking = GuardrailInput {
        name: "No greetings".into(),
        check: "terms".into(),
        patterns: "hello".into(),
        enforcement: "block".into(),
        ..GuardrailInput::default()
    };
    let model = crate::support::gateway::MODEL;
    let rule = guardrails::add(&db, &owner, &blocking, &[model.to_owned()])
        .await
        .unwrap();
    let served = stub.requests();
    for port in ports {
        let took = until(Duration::from_millis(900), async || {
            send_for(&http, port, &key, model).await == 400
        })
        .await;
        assert!(
            took.is_some(),
            "process on {port} does not apply the guardrail"
        );
        eprintln!("process on {port} applied the new guardrail after {took:?}");
    }
    assert!(
        stub.requests() - served <= 2,
        "a blocked request reached the stub"
    );

    // A route added elsewhere is served by both from their next request, and a route disabled
    // elsewhere is refused by both (the rule, which checks every model, goes first).
    guardrails::delete(&db, &owner, rule).await.unwrap();
    let stub_id = providers::view(&db, &owner)
        .await
        .unwrap()
        .rows
        .into_iter()
        .find(|p| p.name == "stub")
        .map(|p| p.id)
        .unwrap();
    let route = RouteInput {
        name: "elsewhere".into(),
        targets: vec![TargetInput {
            provider: stub_id.to_string(),
            upstream_name: "stub-upstream-mini".into(),
            input_price: "1".into(),
            output_price: "2".into(),
            max_output_tokens: "1000".into(),
            image_input_tokens: String::new(),
        }],
        ..RouteInput::default()
    };
    let route_id = routes::add(&db, &owner, &route).await.unwrap();
    for port in ports {
        let took = until(Duration::from_millis(900), async || {
            send_for(&http, port, &key, "elsewhere").await == 200
        })
        .await;
        assert!(
            took.is_some(),
            "process on {port} does not serve the new route"
        );
        eprintln!("process on {port} served the new route after {took:?}");
    }
    routes::set_enabled(&db, &owner, route_id, false)
        .await
        .unwrap();
    for port in ports {
        let took = until(Duration::from_millis(900), async || {
            send_for(&http, port, &key, "elsewhere").await == 404
        })
        .await;
        assert!(
            took.is_some(),
            "process on {port} still serves a disabled route"
        );
    }

    for process in [&mut a, &mut b] {
        process.kill().await.ok();
    }
    db.close().await.ok();
    drop_database(&admin, &name).await;
    std::fs::remove_file(file).ok();
}

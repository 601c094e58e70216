//! The gateway under test: the stub upstream, a providers file pointing at it (applied to the
//! database as at start-up: its provider and its routes), the router on a loopback port, and
//! people with keys in teams with limits.

use super::TestServer;
use crate::stub_upstream::{self, StubControl};
use chrono::Utc;
use domain::db::DatabaseConnection;
use domain::entity::usage_team_month;
use domain::service::access_epoch::AccessWatch;
use domain::service::ledger::Ledger;
use domain::service::{keys, leases, month_key, teams};
use domain::teams::TeamInput;
use domain::{Actor, Role, Status, TeamId, UserId};
use sea_orm::EntityTrait;
use std::sync::Arc;
use tollgate::providers_file::ProvidersFile;

/// The upstream key the providers file names; the stub sees it, clients never do.
pub const UPSTREAM_KEY: &str = "sk-stub-upstream-secret";
/// Input $1 and output $2 per million tokens: 1 and 2 micro-dollars a token.
pub const MODEL: &str = "stub-mini";

/// A second model whose entry bounds what an image costs: 20,000 prompt tokens each.
pub const VISION_MODEL: &str = "stub-vision";
pub const VISION_ENTRY: &str = r#"
[[models]]
name = "stub-vision"
provider = "stub"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
max_output_tokens = 1000
image_input_tokens = 20000
"#;

/// A providers file for the stub at `base_url`.
pub fn providers_toml(base_url: &str, timeout_seconds: u64) -> String {
    format!(
        r#"
[[providers]]
name = "stub"
base_url = "{base_url}"
api_key_env = "TOLLGATE_TEST_UPSTREAM_KEY"
timeout_seconds = {timeout_seconds}

[[models]]
name = "{MODEL}"
provider = "stub"
upstream_name = "stub-upstream-mini"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
max_output_tokens = 1000
"#
    )
}

/// The providers file of [`providers_toml`] for `stub`, with `more` entries after it
/// (`[[models]]`, `[[providers]]`, or `[[routes]]` with their `[[routes.targets]]`).
pub fn providers_file(stub: &StubControl, timeout_seconds: u64, more: &str) -> ProvidersFile {
    ProvidersFile::parse(
        "providers.toml",
        &(providers_toml(&stub.base_url(), timeout_seconds) + more),
        |var| (var == "TOLLGATE_TEST_UPSTREAM_KEY").then(|| UPSTREAM_KEY.to_owned()),
        &[],
    )
    .expect("providers file")
}

/// A gateway in front of a fresh stub, listening on loopback.
pub struct Gateway {
    pub server: TestServer,
    pub owner: UserId,
    pub stub: StubControl,
    /// `http://127.0.0.1:PORT/v1`.
    pub base: String,
    /// Where the router listens.
    pub addr: std::net::SocketAddr,
    pub http: reqwest::Client,
    /// The gateway's ledger, to wait for what it writes behind.
    pub ledger: Ledger,
    /// The gateway's view of access changes: it moves when remembered keys are forgotten.
    pub access: Arc<AccessWatch>,
}

impl Gateway {
    pub async fn start() -> Self {
        Self::with_timeout(30).await
    }

    pub async fn with_timeout(timeout_seconds: u64) -> Self {
        Self::with_models(timeout_seconds, "").await
    }

    /// A gateway giving clients `read_timeout` to send a request's headers and body.
    pub async fn start_reading_within(read_timeout: std::time::Duration) -> Self {
        Self::serve(30, "", read_timeout).await
    }

    /// A gateway whose providers file has `more` entries (see [`providers_file`]); they may
    /// name only the file's providers, as the database has none before it is applied.
    pub async fn with_models(timeout_seconds: u64, more: &str) -> Self {
        Self::serve(timeout_seconds, more, std::time::Duration::from_secs(30)).await
    }

    async fn serve(timeout_seconds: u64, more: &str, read_timeout: std::time::Duration) -> Self {
        let stub = stub_upstream::start().await.expect("stub upstream");
        let file = providers_file(&stub, timeout_seconds, more);
        let mut ledger = None;
        let mut access = None;
        let mut sealer = None;
        let (server, owner) =
            TestServer::with_owner_and("Olive Owner", "owner@example.com", &[], |state| {
                ledger = Some(state.gateway.ledger.clone());
                access = Some(Arc::clone(&state.gateway.access));
                sealer = Some(Arc::clone(&state.server.sealer));
            })
            .await;
        let sealer = sealer.expect("the server's sealer");
        // As `tollgate serve` does at start: the file's providers, then its routes.
        file.apply(&server.db, &sealer)
            .await
            .expect("the providers file applied");
        let addr = server.listen_reading_within(read_timeout).await;
        Gateway {
            addr,
            server,
            owner,
            stub,
            base: format!("http://{addr}/v1"),
            http: reqwest::Client::new(),
            ledger: ledger.expect("the gateway's ledger"),
            access: access.expect("the gateway's access watch"),
        }
    }

    /// Waits until what was settled is written and unused slices are given back.
    pub async fn flushed(&self) {
        self.ledger.flush().await.expect("ledger written");
    }

    pub fn owner(&self) -> Actor {
        Actor {
            id: self.owner,
            role: Role::Owner,
            status: Status::Active,
        }
    }

    /// A team with `limit` (dollars as typed in the form; empty for none).
    pub async fn team(&self, name: &str, limit: &str) -> TeamId {
        let input = TeamInput {
            name: name.into(),
            description: String::new(),
            limit: limit.into(),
            ..TeamInput::default()
        };
        teams::create(&self.server.db, &self.owner(), &input)
            .await
            .unwrap()
            .id
    }

    /// A Member of `team` and a key they issued: their id and the key's secret.
    pub async fn member_key(&self, email: &str, team: TeamId) -> (UserId, String) {
        let (id, _) = self
            .server
            .add_person(self.owner, email, Role::Member)
            .await;
        teams::assign(&self.server.db, &self.owner(), id, Some(team))
            .await
            .unwrap();
        let member = Actor {
            id,
            role: Role::Member,
            status: Status::Active,
        };
        let issued = keys::issue(
            &self.server.db,
            &member,
            keys::IssueInput {
                name: "laptop".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        (id, issued.secret)
    }

    /// The id of the key whose secret is `secret`.
    pub async fn key_id(&self, secret: &str) -> domain::KeyId {
        keys::authenticate(
            &self.server.db,
            &domain::secret::Secret::new(secret.to_owned()),
        )
        .await
        .unwrap()
        .key
    }

    /// The model ids `GET /v1/models` lists to `key`.
    pub async fn model_ids(&self, key: &str) -> Vec<String> {
        let listed: serde_json::Value = self
            .http
            .get(format!("{}/models", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `GET /v1/models/{id}` with `key`; answers the status and the JSON body.
    pub async fn model(&self, key: &str, id: &str) -> (u16, serde_json::Value) {
        let res = self
            .http
            .get(format!("{}/models/{id}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    /// A chat request with `key`; answers the status and the JSON body.
    pub async fn chat(&self, key: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res = self
            .http
            .post(format!("{}/chat/completions", self.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// A one-message chat request for the test model.
pub fn hello() -> serde_json::Value {
    serde_json::json!({
        "model": MODEL,
        "messages": [{"role": "user", "content": "Hello"}],
        "max_tokens": 100
    })
}

/// Sends one chat request to `url` with `key`; answers the status (0 when the connection broke).
pub async fn chat_status(http: &reqwest::Client, url: &str, key: &str) -> u16 {
    match http.post(url).bearer_auth(key).json(&hello()).send().await {
        Ok(res) => res.status().as_u16(),
        Err(_) => 0,
    }
}

/// Sends `n` chat requests at once, the i-th to `urls[i % urls.len()]`; answers the statuses.
pub async fn chat_at_once(n: usize, urls: &[String], key: &str) -> Vec<u16> {
    let http = reqwest::Client::new();
    let requests: Vec<_> = (0..n)
        .map(|i| {
            let (http, url, key) = (http.clone(), urls[i % urls.len()].clone(), key.to_owned());
            tokio::spawn(async move { chat_status(&http, &url, &key).await })
        })
        .collect();
    let mut statuses = Vec::with_capacity(n);
    for r in requests {
        statuses.push(r.await.unwrap());
    }
    statuses
}

/// What `team` did this month: (spend in micro-dollars, requests, reserved micro-dollars).
pub async fn team_month(db: &DatabaseConnection, team: TeamId) -> (i64, i64, i64) {
    usage_team_month::Entity::find_by_id((team.0, month_key(Utc::now())))
        .one(db)
        .await
        .unwrap()
        .map_or((0, 0, 0), |m| {
            (m.spend_micros, m.requests, m.reserved_micros)
        })
}

/// With every request costing the same worst case W (the stub's `WorstCase` usage): every
/// status is 200 or 402, exactly ⌊limit / W⌋ were admitted, they are all recorded, and nothing
/// is still held once the gateways have written behind and given back their unused slices.
pub async fn assert_admitted_exactly_the_budget(
    db: &DatabaseConnection,
    team: TeamId,
    statuses: &[u16],
    limit_micros: i64,
) {
    let admitted = statuses.iter().filter(|s| **s == 200).count() as i64;
    let refused = statuses.iter().filter(|s| **s == 402).count() as i64;
    assert_eq!(admitted + refused, statuses.len() as i64, "{statuses:?}");
    let mut figures = team_month(db, team).await;
    let mut leases = leases::outstanding(db).await.unwrap();
    for _ in 0..100 {
        if (figures.1, figures.2, leases) == (admitted, 0, 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        figures = team_month(db, team).await;
        leases = leases::outstanding(db).await.unwrap();
    }
    let (spent, requests, reserved) = figures;
    assert_eq!((requests, reserved, leases), (admitted, 0, 0));
    let each = spent / admitted;
    assert_eq!(spent, each * admitted);
    assert_eq!(
        admitted,
        limit_micros / each,
        "admitted {admitted} at {each} µ$ each"
    );
    assert!(spent <= limit_micros);
}

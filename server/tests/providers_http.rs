//! Providers over HTTP: Owners and Admins add, edit, test, disable and delete them through the
//! server functions, Members and Viewers only read the list (403 on every change, and nothing
//! changes), no answer or page ever holds a key, and the gateway uses a change on the very
//! next request: a new key, a new name, a disabled provider's routes refused, enabled again; a
//! provider a route sends to cannot be deleted.

use crate::support::gateway::{Gateway, hello};
use domain::entity::provider;
use domain::providers::ProviderInput;
use domain::providers::{Health, Probe, ProvidersView};
use domain::secret::Secret;
use domain::service::{providers, routes, setup};
use domain::{Actor, Role, Status};
use http::StatusCode;
use sea_orm::EntityTrait;

const SHARED_KEY: &str = "sk-shared-secret-1234";
const ROTATED_KEY: &str = "sk-shared-rotated-5678";

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn list(gw: &Gateway, cookie: &str) -> ProvidersView {
    let (status, body, _) = gw.server.post("list_providers", "", Some(cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("sk-"), "no key in the list: {body}");
    serde_json::from_str(&body).unwrap()
}

fn add_form(name: &str, base_url: &str, key: &str) -> String {
    form(&[
        ("name", name),
        ("base_url", base_url),
        ("api_key", key),
        ("timeout_secs", "30"),
    ])
}

#[tokio::test]
async fn only_owners_and_admins_change_providers_and_no_answer_holds_a_key() {
    let gw = Gateway::start().await;
    let base = gw.stub.base_url();
    let (_, admin) = gw
        .server
        .add_person(gw.owner, "admin@example.com", Role::Admin)
        .await;
    let file_stub = list(&gw, &admin).await.rows.remove(0);
    assert!(file_stub.from_file && file_stub.name == "stub");
    assert_eq!(
        file_stub.routes,
        ["stub-mini"],
        "the file's route sends to it"
    );

    for (email, role) in [
        ("member@example.com", Role::Member),
        ("viewer@example.com", Role::Viewer),
    ] {
        let (_, cookie) = gw.server.add_person(gw.owner, email, role).await;
        let view = list(&gw, &cookie).await;
        assert!(!view.can_change, "{role:?}");
        let id = file_stub.id.to_string();
        for (endpoint, body) in [
            ("add_provider", add_form("mine", &base, SHARED_KEY)),
            (
                "edit_provider",
                format!("id={id}&{}", add_form("stub", &base, "")),
            ),
            ("set_provider_enabled", format!("id={id}&enabled=false")),
            ("delete_provider", format!("id={id}")),
            ("test_provider", format!("id={id}")),
        ] {
            let (status, answer, _) = gw.server.post(endpoint, &body, Some(&cookie)).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{role:?} {endpoint}: {answer}"
            );
        }
        let (status, page) = gw
            .server
            .get("/dashboard/configuration/providers", Some(&cookie))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("stub") && !page.contains("Add provider"),
            "{role:?}"
        );
    }
    assert_eq!(
        provider::Entity::find()
            .all(&gw.server.db)
            .await
            .unwrap()
            .len(),
        1
    );

    let (status, body, _) = gw
        .server
        .post(
            "add_provider",
            &add_form("shared", &base, SHARED_KEY),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains(SHARED_KEY));
    let view = list(&gw, &admin).await;
    let shared = view.rows.iter().find(|r| r.name == "shared").unwrap();
    assert_eq!(shared.key_last4.as_deref(), Some("1234"));

    // The same name in another case is refused next to the field.
    let (status, body, _) = gw
        .server
        .post("add_provider", &add_form("SHARED", &base, ""), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("name"), "{body}");

    // Test connection: the stub lists one model to a caller with a key.
    let (status, body, _) = gw
        .server
        .post("test_provider", &format!("id={}", shared.id), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let health: Health = serde_json::from_str(&body).unwrap();
    assert_eq!(health.outcome, Probe::Ok { models: 1 });
    assert_eq!(gw.stub.requests(), 0, "a test is not a chat request");

    // The file's provider is read-only, even for an Owner.
    let owner = gw.server.sign_in("owner@example.com").await;
    let (status, _, _) = gw
        .server
        .post(
            "set_provider_enabled",
            &format!("id={}&enabled=false", file_stub.id),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, page) = gw
        .server
        .get("/dashboard/configuration/providers", Some(&admin))
        .await;
    assert!(page.contains("shared") && page.contains("····1234") && page.contains("from file"));
    assert!(
        !page.contains(SHARED_KEY) && !page.contains("sk-stub-upstream"),
        "no key in the page"
    );
    gw.server.finish().await;
}

#[tokio::test]
async fn the_gateway_uses_a_provider_change_on_the_next_request() {
    let gw = Gateway::start().await;
    let base = gw.stub.base_url();
    let owner = gw.server.sign_in("owner@example.com").await;
    let team = gw.team("Research", "").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    let mut ask = hello();
    ask["model"] = "shared-mini".into();

    // No route sends to it yet: the model is not offered.
    let (status, body) = gw.chat(&key, ask.clone()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");

    let (status, body, _) = gw
        .server
        .post(
            "add_provider",
            &add_form("shared", &base, SHARED_KEY),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body.trim().to_owned();
    // A route sending `shared-mini` to it (the upstream name left blank: the route's name).
    let route = form(&[
        ("name", "shared-mini"),
        ("target_provider[]", &id),
        ("target_upstream_name[]", ""),
        ("target_input_price[]", "1"),
        ("target_output_price[]", "2"),
        ("target_max_output_tokens[]", "1000"),
        ("target_image_input_tokens[]", ""),
        ("team_scope", "all"),
    ]);
    let (status, body, _) = gw.server.post("add_route", &route, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view = list(&gw, &owner).await;
    let row = view.rows.iter().find(|r| r.name == "shared").unwrap();
    assert_eq!(
        row.routes,
        ["shared-mini"],
        "the page names the routes sending to it"
    );
    assert_eq!(view.routes, 2, "the file's stub-mini and shared-mini");

    let (status, body) = gw.chat(&key, ask.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        gw.stub.last().authorization.as_deref(),
        Some(format!("Bearer {SHARED_KEY}").as_str())
    );
    assert_eq!(gw.stub.last().body["model"], "shared-mini");

    // A new key is sent from the next request on.
    let edit = format!("id={id}&{}", add_form("shared", &base, ROTATED_KEY));
    let (status, body, _) = gw.server.post("edit_provider", &edit, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = gw.chat(&key, ask.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(
        gw.stub.last().authorization.as_deref(),
        Some(format!("Bearer {ROTATED_KEY}").as_str())
    );

    // Routes name it by its id: renamed, it serves them on, under its new name.
    let rename = format!("id={id}&{}", add_form("shared-two", &base, ""));
    let (status, body, _) = gw.server.post("edit_provider", &rename, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = gw.chat(&key, ask.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        gw.stub.last().authorization.as_deref(),
        Some(format!("Bearer {ROTATED_KEY}").as_str()),
        "a new name keeps the key"
    );
    let listed: serde_json::Value = gw
        .http
        .get(format!("{}/models", gw.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shared = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "shared-mini")
        .cloned();
    assert_eq!(
        shared.map(|m| m["owned_by"].clone()),
        Some(serde_json::json!("shared-two")),
        "{listed}"
    );

    // Disabled: its route is neither listed nor served, and nothing reaches the upstream.
    let (status, _, _) = gw
        .server
        .post(
            "set_provider_enabled",
            &format!("id={id}&enabled=false"),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let served = gw.stub.requests();
    let (status, body) = gw.chat(&key, ask.clone()).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(gw.stub.requests(), served);
    let ids = gw.model_ids(&key).await;
    assert!(
        !ids.iter().any(|m| m == "shared-mini") && ids.iter().any(|m| m == "stub-mini"),
        "{ids:?}"
    );

    // A route sends to it: it cannot be deleted.
    let (status, body, _) = gw
        .server
        .post("delete_provider", &format!("id={id}"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("Routes shared-mini send to shared-two: it cannot be deleted"),
        "{body}"
    );

    let (status, _, _) = gw
        .server
        .post(
            "set_provider_enabled",
            &format!("id={id}&enabled=true"),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = gw.chat(&key, ask).await;
    assert_eq!(status, 200, "{body}");
    gw.server.finish().await;
}

#[tokio::test]
async fn export_config_writes_a_file_that_imports_again_unchanged() {
    let dir = std::env::temp_dir().join(format!(
        "tollgate-export-{}",
        &Secret::random().digest()[..12]
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("providers.toml");
    std::fs::write(
        &file,
        r#"
[[providers]]
name = "local"
base_url = "http://127.0.0.1:9/v1"
timeout_seconds = 20

[[models]]
name = "llama"
provider = "local"
upstream_name = "meta-llama/Llama-3.1-8B"
input_usd_per_mtok = 0.15
output_usd_per_mtok = 0.6
max_output_tokens = 4096

[[models]]
name = "shared-mini"
provider = "shared"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
max_output_tokens = 1000
"#,
    )
    .unwrap();
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
    let file_flag = file.display().to_string();
    let flags = ["--providers", file_flag.as_str()];

    // A first start has no "shared" yet: the file cannot name it.
    let config = crate::support::config(&url, &flags);
    let db = tollgate::serve::open_database(&config).await.unwrap();
    let refused = tollgate::serve::app_state(&config, db.clone()).await;
    assert!(
        refused
            .err()
            .unwrap()
            .to_string()
            .contains("no provider on the Providers page")
    );

    // Made on the page (here: through the service), with a key, then disabled.
    let sealer = state_sealer(&dir);
    let token = setup::issue_token(&db).await.unwrap().unwrap();
    let first_owner = setup::FirstOwner {
        name: "Olive Owner".into(),
        email: "owner@example.com".into(),
        password: Secret::new(crate::support::PASSWORD),
    };
    let admin = Actor {
        id: setup::complete(&db, &token, first_owner).await.unwrap().id,
        role: Role::Owner,
        status: Status::Active,
    };
    let input = ProviderInput {
        name: "shared".into(),
        base_url: "https://llm.example.com/v1".into(),
        api_key: SHARED_KEY.into(),
        timeout_secs: "45".into(),
    };
    let id = providers::add(&db, &sealer, &admin, &input).await.unwrap();
    providers::set_enabled(&db, &admin, id, false)
        .await
        .unwrap();

    let config = crate::support::config(&url, &flags);
    tollgate::serve::app_state(&config, db.clone())
        .await
        .unwrap();
    let first = tollgate::export_config::export(&config).await.unwrap();
    assert!(!first.contains(SHARED_KEY), "{first}");
    assert!(
        first.contains("set SHARED_API_KEY before starting"),
        "{first}"
    );
    assert!(
        first.contains("api_key_env = \"SHARED_API_KEY\""),
        "{first}"
    );
    assert!(first.contains("enabled = false"), "{first}");
    assert!(
        first.contains("upstream_name = \"meta-llama/Llama-3.1-8B\""),
        "{first}"
    );

    // Routes are written as `[[routes]]` with their targets, whether the file had them as
    // `[[models]]` or not.
    assert!(
        first.contains("[[routes]]")
            && first.contains("[[routes.targets]]")
            && !first.contains("[[models]]"),
        "{first}"
    );
    assert_eq!(first.matches("[[routes]]").count(), 2, "{first}");
    assert!(first.contains("name = \"llama\""), "{first}");
    assert!(first.contains("provider = \"local\""), "{first}");

    // Imported (its key from the variable it names), it is the same file.
    let parsed = tollgate::providers_file::ProvidersFile::parse(
        "exported.toml",
        &first,
        |var| (var == "SHARED_API_KEY").then(|| SHARED_KEY.to_owned()),
        &[],
    )
    .unwrap();
    let names: Vec<&str> = parsed.routes.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["llama", "shared-mini"]);
    let llama = &parsed.routes[0];
    assert_eq!(
        (
            llama.targets.len(),
            llama.targets[0].provider.as_str(),
            llama.targets[0].upstream_name.as_str(),
            llama.teams.as_ref(),
            llama.enabled,
        ),
        (1, "local", "meta-llama/Llama-3.1-8B", None, true)
    );
    assert_eq!(
        providers::apply_file(&db, &sealer, &parsed.providers)
            .await
            .unwrap(),
        (0, 1),
        "only `shared` changes: it is now the file's"
    );
    assert_eq!(
        routes::apply_file(&db, &parsed.routes).await.unwrap(),
        (0, 0),
        "the routes were the file's already, unchanged"
    );
    let again = tollgate::export_config::export(&config).await.unwrap();
    let body = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&again), body(&first));

    // Without its key file the sealed keys cannot be read: start-up says so rather than make a
    // new key.
    std::fs::remove_file(dir.join("t.db.key")).unwrap();
    let refused = tollgate::serve::app_state(&config, db.clone()).await;
    let why = refused.err().unwrap().to_string();
    assert!(why.contains("t.db.key is missing"), "{why}");
    assert!(!dir.join("t.db.key").exists());
    db.close().await.ok();
    std::fs::remove_dir_all(&dir).ok();
}

/// The sealer a server on `dir/t.db` uses: the key file beside the database.
fn state_sealer(dir: &std::path::Path) -> domain::sealing::Sealer {
    let key = domain::sealing::DataKey::load_or_create(&dir.join("t.db.key")).unwrap();
    domain::sealing::Sealer::new(key, None)
}

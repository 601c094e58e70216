//! A real OpenAI client against the gateway: the official OpenAI Node SDK (installed with the
//! end-to-end packages) lists models, retrieves one (and is told one does not exist), gets the stub's answer, streams it, gets the 402 past the
//! team's cap as an `APIError`, and a wrong key as `AuthenticationError`.

use crate::stub_upstream::{StubBehaviour, StubUsage};
use crate::support::gateway::{Gateway, MODEL};

#[tokio::test]
async fn the_official_openai_sdk_works_against_the_gateway() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/clients/openai-client.mjs"
    );
    let sdk = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/node_modules/openai"
    );
    if !std::path::Path::new(sdk).exists() {
        assert!(
            std::env::var("TOLLGATE_REQUIRE_CLIENTS").is_err(),
            "the OpenAI SDK is missing: run scripts/install.sh"
        );
        eprintln!("note: end2end/node_modules/openai missing; the SDK check is skipped");
        return;
    }
    let gw = Gateway::start().await;
    let team = gw.team("Research", "0.01").await;
    let (_, key) = gw.member_key("m@example.com", team).await;
    gw.stub.set(StubBehaviour {
        usage: StubUsage::Fixed {
            prompt: 1_000,
            completion: 500,
        },
        ..StubBehaviour::default()
    });
    let out = tokio::process::Command::new("node")
        .arg(script)
        .env("GATEWAY_BASE_URL", &gw.base)
        .env("GATEWAY_KEY", &key)
        .env("GATEWAY_MODEL", MODEL)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(seen["models"], serde_json::json!([MODEL]));
    assert_eq!(seen["retrieved"]["id"], MODEL, "{seen}");
    assert_eq!(seen["retrieved"]["object"], "model");
    assert_eq!(seen["missingModel"]["status"], 404, "{seen}");
    assert_eq!(seen["missingModel"]["name"], "NotFoundError");
    assert_eq!(seen["missingModel"]["code"], "model_not_found");
    assert_eq!(seen["answer"], "Hello from the stub.");
    assert_eq!(seen["usage"]["completion_tokens"], 500);
    assert_eq!(seen["streamed"], "part 0 part 1 part 2 ");
    assert_eq!(seen["streamUsage"]["prompt_tokens"], 1_000);
    assert_eq!(seen["plainStreamed"], "part 0 part 1 part 2 ");
    assert!(seen["plainChunkWithoutChoices"].is_null(), "{seen}");
    assert_eq!(seen["refusal"]["status"], 402, "{seen}");
    assert_eq!(seen["refusal"]["type"], "budget_exceeded");
    assert!(
        seen["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("Team ‘Research’ has reached its monthly spend limit of $0.01")
    );
    assert_eq!(seen["wrongKey"]["status"], 401);
    assert_eq!(seen["wrongKey"]["name"], "AuthenticationError");
    gw.server.finish().await;
}

//! Guardrails over HTTP and on the request path: Owners and Admins add, edit, disable and
//! delete them through the server functions, Members and Viewers only read the list (403 on
//! every change, and nothing changes); a blocking rule refuses a matching request with 400
//! `guardrail_blocked` naming the rule — nothing held, nothing sent upstream — on the very next
//! request after it is saved; a logging rule lets it through; both are counted on the page, and
//! a blocked request is a refusal on the Usage page.

use crate::support::gateway::{Gateway, MODEL, hello, team_month};
use domain::Role;
use domain::entity::guardrail;
use domain::entity::refusal_day::{self, RefusalKind};
use domain::guardrails::GuardrailsView;
use http::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn list(gw: &Gateway, cookie: &str) -> GuardrailsView {
    let (status, body, _) = gw.server.post("list_guardrails", "", Some(cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn asking(text: &str) -> serde_json::Value {
    json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": [{"type": "text", "text": text}]}
        ],
        "max_tokens": 50
    })
}

#[tokio::test]
async fn a_saved_rule_blocks_the_next_request_and_only_admins_save_rules() {
    let gw = Gateway::start().await;
    let team = gw.team("Research", "100").await;
    let (_, key) = gw.member_key("ada@example.com", team).await;
    let (_, admin) = gw
        .server
        .add_person(gw.owner, "admin@example.com", Role::Admin)
        .await;
    let rule = form(&[
        ("name", "No project names"),
        ("check", "terms"),
        ("patterns", "Falcon\nOsprey"),
        ("enforcement", "block"),
    ]);

    for (email, role) in [
        ("member@example.com", Role::Member),
        ("viewer@example.com", Role::Viewer),
    ] {
        let (_, cookie) = gw.server.add_person(gw.owner, email, role).await;
        assert!(!list(&gw, &cookie).await.can_change, "{role:?}");
        for (endpoint, body) in [
            ("add_guardrail", rule.clone()),
            ("edit_guardrail", format!("id=1&{rule}")),
            ("set_guardrail_enabled", "id=1&enabled=false".to_owned()),
            ("delete_guardrail", "id=1".to_owned()),
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
            .get("/dashboard/configuration/guardrails", Some(&cookie))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("No guardrails yet") && !page.contains("Add guardrail"),
            "{role:?}"
        );
    }
    assert!(
        guardrail::Entity::find()
            .all(&gw.server.db)
            .await
            .unwrap()
            .is_empty()
    );

    // Before the rule: the prompt goes through.
    let (status, _) = gw.chat(&key, asking("Plan for falcon")).await;
    assert_eq!(status, 200);
    assert_eq!(gw.stub.requests(), 1);

    // A regular expression that does not compile is refused next to its field.
    let (status, body, _) = gw
        .server
        .post(
            "add_guardrail",
            &form(&[
                ("name", "Cards"),
                ("check", "pattern"),
                ("patterns", "[0-9"),
                ("enforcement", "block"),
            ]),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("Line 1, character 1: unclosed character class"),
        "{body}"
    );

    let (status, body, _) = gw.server.post("add_guardrail", &rule, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id: i64 = body.parse().unwrap();

    // The very next request is checked: refused, naming the rule and not the text it matched,
    // with nothing held against the team and nothing sent upstream.
    gw.flushed().await;
    let before = team_month(&gw.server.db, team).await;
    let (status, answer) = gw.chat(&key, asking("Plan for FALCON, please")).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "guardrail_blocked");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("No project names"), "{message}");
    assert!(!message.to_lowercase().contains("falcon"), "{message}");
    assert_eq!(gw.stub.requests(), 1, "nothing reached the upstream");
    gw.flushed().await;
    assert_eq!(
        team_month(&gw.server.db, team).await,
        before,
        "nothing spent, counted or held"
    );
    // Nor does it get through inside a tool call's arguments, or unreadable beside one.
    let smuggled = json!({
        "model": MODEL,
        "max_tokens": 50,
        "messages": [
            {"role": "user", "content": "Call say."},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function",
                 "function": {"name": "say", "arguments": "{\"text\": \"osprey\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
            {"role": "user", "content": "Repeat the arguments of your last call."}
        ]
    });
    let (status, answer) = gw.chat(&key, smuggled).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("guardrail_blocked"))
    );
    let surrogate = r#"{"model":"stub-mini","max_tokens":5,"messages":[{"role":"user","content":[
        {"type":"text","text":"falcon"},{"type":"text","text":"\ud800"}]}]}"#;
    let res = gw
        .http
        .post(format!("{}/chat/completions", gw.base))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(surrogate)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400, "{}", res.text().await.unwrap());
    assert_eq!(gw.stub.requests(), 1, "nothing reached the upstream");
    // A word that only contains a term is not the term.
    let (status, _) = gw.chat(&key, asking("Falconry is an old sport")).await;
    assert_eq!(status, 200);
    assert_eq!(gw.stub.requests(), 2);
    gw.flushed().await;

    // Counted on the page and as a refusal.
    let view = list(&gw, &admin).await;
    assert_eq!(
        (view.rows[0].name.as_str(), view.rows[0].hits),
        ("No project names", 2),
        "the plain and the smuggled request"
    );
    let refusals = refusal_day::Entity::find()
        .all(&gw.server.db)
        .await
        .unwrap();
    assert!(
        refusals
            .iter()
            .any(|r| r.kind == RefusalKind::Guardrail && r.reason.contains("No project names")),
        "{refusals:?}"
    );

    // Logging only: let through, and counted.
    let logging = form(&[
        ("id", &id.to_string()),
        ("name", "No project names"),
        ("check", "terms"),
        ("patterns", "Falcon\nOsprey"),
        ("enforcement", "log"),
    ]);
    let (status, body, _) = gw
        .server
        .post("edit_guardrail", &logging, Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = gw.chat(&key, asking("osprey sightings")).await;
    assert_eq!(status, 200);
    gw.flushed().await;
    assert_eq!(list(&gw, &admin).await.rows[0].hits, 3);

    // Another team's rule does not apply to this key; a prompt-size rule does.
    let other = gw.team("Sales", "").await;
    let (status, body, _) = gw
        .server
        .post(
            "add_guardrail",
            &form(&[
                ("name", "Sales only"),
                ("check", "terms"),
                ("patterns", "hello"),
                ("teams[]", &other.0.to_string()),
                ("enforcement", "block"),
            ]),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(gw.chat(&key, hello()).await.0, 200);
    let (status, body, _) = gw
        .server
        .post(
            "add_guardrail",
            &form(&[
                ("name", "Short prompts"),
                ("check", "prompt_size"),
                ("max_bytes", "40"),
                ("models[]", MODEL),
                ("enforcement", "block"),
            ]),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(gw.chat(&key, hello()).await.0, 200, "5 bytes of text");
    let (status, answer) = gw.chat(&key, asking(&"x".repeat(30))).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("guardrail_blocked"))
    );

    // Disabled, then deleted: checked no more.
    let (status, _, _) = gw
        .server
        .post(
            "set_guardrail_enabled",
            &format!("id={id}&enabled=true"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = gw
        .server
        .post("delete_guardrail", &format!("id={id}"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(list(&gw, &admin).await.rows.len(), 2);
    gw.server.finish().await;
}

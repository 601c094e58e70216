//! Guardrails on the request path: once a request has its model and a place under the
//! per-minute limits, and before anything is held or sent, its text is checked against the
//! enabled rules that apply to its model and the key's team
//! ([`domain::guardrails::matcher`]). A blocking rule that matches refuses it with 400
//! `guardrail_blocked`, naming the rule and never the text it matched; a logging rule that
//! matches lets it through. The rules' month counts go up in memory and are written with the
//! ledger's next round. When no rule applies, the body is not read again.
//!
//! The text is what the upstream shows the model: the tool definitions and the response format
//! whole (every key and string of their JSON schemas), and every string of the messages —
//! contents and their parts, tool-call arguments, names — but for standard roles and part
//! types, ids, and the data of image, audio and file parts (a file's name is text). A body that
//! cannot be read this way is refused while rules apply, rather than let through unchecked.

use super::GatewayState;
use super::bound::Bounded;
use super::catalog::Catalog;
use super::error::ApiError;
use super::refused::{Whose, counted};
use chrono::Utc;
use domain::entity::refusal_day::RefusalKind;
use domain::service::keys::KeyAuth;
use serde_json::Value;

/// The standard roles and content-part types: names, not text. Any other value is read.
const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];
const PART_TYPES: [&str; 6] = [
    "text",
    "image_url",
    "input_audio",
    "file",
    "refusal",
    "function",
];

/// Message fields whose string is an id.
const IDS: [&str; 2] = ["id", "tool_call_id"];

/// Content parts that carry data rather than text (`{"type":"image_url","image_url":{…}}`),
/// with what of their payload is text all the same (a file's name).
const DATA_PARTS: [(&str, &[&str]); 3] = [
    ("image_url", &[]),
    ("input_audio", &[]),
    ("file", &["filename"]),
];

/// Checks `request` against the guardrails that apply to it; answers the logging rules that
/// matched, to be counted once the request is admitted ([`count`]).
///
/// # Errors
/// [`ApiError`] 400 `guardrail_blocked` when a blocking rule matches (counted), or 400 when
/// rules apply and the body's text cannot be read.
pub fn guard(
    gw: &GatewayState,
    catalog: &Catalog,
    auth: &KeyAuth,
    request: &Bounded,
) -> Result<Vec<i64>, ApiError> {
    let rules = catalog.guardrails();
    let team = auth.team.map(|t| t.0);
    if !rules.applies(&request.model.name, team) {
        return Ok(Vec::new());
    }
    let Some(text) = text_of(&request.forwarded.first) else {
        let refusal = ApiError::invalid(
            Some("messages"),
            "The messages could not be read as text, so the gateway's guardrails cannot check them.",
        );
        return Err(counted(
            gw,
            Whose::from(auth),
            RefusalKind::Guardrail,
            refusal,
        ));
    };
    let verdict = rules.check(&request.model.name, team, &text);
    match verdict.blocked {
        None => Ok(verdict.logged),
        Some(rule) => {
            gw.ledger.guardrail_hit(rule.id, Utc::now());
            let refusal = ApiError::guardrail_blocked(&rule.name);
            Err(counted(
                gw,
                Whose::from(auth),
                RefusalKind::Guardrail,
                refusal,
            ))
        }
    }
}

/// Counts the logging rules a request that went ahead matched.
pub fn count(gw: &GatewayState, logged: &[i64]) {
    let now = Utc::now();
    for rule in logged {
        gw.ledger.guardrail_hit(*rule, now);
    }
}

/// The text of the messages, tool definitions and response format, one string a line; `None`
/// when the body is not JSON whose strings are all text (e.g. a lone UTF-16 surrogate).
fn text_of(forwarded: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(forwarded).ok()?;
    let mut text = String::new();
    if let Some(messages) = body.get("messages") {
        collect_message(messages, &mut text);
    }
    for field in ["tools", "functions", "response_format"] {
        if let Some(value) = body.get(field) {
            collect_all(value, &mut text);
        }
    }
    Some(text)
}

/// Every key and string of a definition the model is shown whole (a tool's JSON schema).
fn collect_all(value: &Value, text: &mut String) {
    match value {
        Value::String(s) => push_line(text, s),
        Value::Array(items) => items.iter().for_each(|item| collect_all(item, text)),
        Value::Object(fields) => {
            for (name, value) in fields {
                push_line(text, name);
                collect_all(value, text);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The strings of messages, but for standard roles and part types, ids, and the data of
/// image, audio and file parts.
fn collect_message(value: &Value, text: &mut String) {
    match value {
        Value::String(s) => push_line(text, s),
        Value::Array(items) => items.iter().for_each(|item| collect_message(item, text)),
        Value::Object(fields) => {
            let part = fields.get("type").and_then(Value::as_str);
            for (name, value) in fields {
                let name = name.as_str();
                let a_name = match (name, value.as_str()) {
                    ("role", Some(role)) => ROLES.contains(&role),
                    ("type", Some(kind)) => PART_TYPES.contains(&kind),
                    (field, Some(_)) => IDS.contains(&field),
                    _ => false,
                };
                if a_name {
                    continue;
                }
                match DATA_PARTS
                    .iter()
                    .find(|(kind, _)| *kind == name && part == Some(name))
                {
                    Some((_, texts)) => texts
                        .iter()
                        .filter_map(|field| value.get(field).and_then(Value::as_str))
                        .for_each(|s| push_line(text, s)),
                    None => collect_message(value, text),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn push_line(text: &mut String, line: &str) {
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(line);
}

#[cfg(test)]
mod tests {
    use super::text_of;

    #[test]
    fn reads_every_string_the_upstream_reads_as_text() {
        let body = br#"{"model":"m","max_tokens":5,"messages":[
            {"role":"system","content":"Be brief."},
            {"role":"user","content":[{"type":"text","text":"Hello"},{"type":"image_url","image_url":{"url":"data:,x"}}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"hidden\"}"}}]},
            {"role":"tool","tool_call_id":"c1","content":"result"}
        ],"tools":[{"type":"function","function":{"name":"lookup","description":"Finds things"}}]}"#;
        let text = text_of(body).unwrap();
        for seen in [
            "Be brief.",
            "Hello",
            "hidden",
            "result",
            "Finds things",
            "lookup",
        ] {
            assert!(text.contains(seen), "{seen} in {text:?}");
        }
        for unseen in ["system", "data:,x", "c1", "image_url"] {
            assert!(!text.contains(unseen), "{unseen} not in {text:?}");
        }
    }

    /// What the model reads of a JSON schema — descriptions, property names, the response
    /// format's — is text, even under a property named like a field that carries none.
    #[test]
    fn reads_the_schemas_the_model_reads() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"Hi"}],
            "response_format":{"type":"json_schema","json_schema":{"name":"answer",
                "description":"format secret one",
                "schema":{"type":"object","properties":{"x":{"type":"string","description":"secret two"}}}}},
            "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{
                "format":{"type":"string","description":"secret three"},
                "file":{"type":"string","description":"secret four"},
                "secret_five":{"type":"integer"}}}}}]}"#;
        let text = text_of(body).unwrap();
        for seen in [
            "format secret one",
            "secret two",
            "secret three",
            "secret four",
            "secret_five",
        ] {
            assert!(text.contains(seen), "{seen} in {text:?}");
        }
    }

    /// A tool's definition and the response format are shown to the model whole: every key and
    /// string in them is text. In messages a role or a part's type is skipped only when it is a
    /// standard one, and only a real file part's data (its name is text).
    #[test]
    fn reads_what_hides_in_names_and_in_parts_shaped_like_data() {
        let body = br#"{"model":"m","messages":[
            {"role":"secret one","content":"hi"},
            {"role":"user","content":[{"type":"secret two","text":"x"},
                {"type":"file","file":{"filename":"secret three.pdf","file_data":"data:,payload"}}]}],
            "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",
                "secret four":0,
                "properties":{"q":{"type":"string","format":"secret five"},
                    "d":{"type":"file","file":{"description":"secret six"}}},
                "patternProperties":{"secret seven":{}}}}}]}"#;
        let text = text_of(body).unwrap();
        for seen in [
            "secret one",
            "secret two",
            "secret three.pdf",
            "secret four",
            "secret five",
            "secret six",
            "secret seven",
        ] {
            assert!(text.contains(seen), "{seen} in {text:?}");
        }
        for unseen in ["payload", "user\n"] {
            assert!(!text.contains(unseen), "{unseen} not in {text:?}");
        }
    }

    #[test]
    fn a_body_whose_strings_are_not_text_is_not_read() {
        assert_eq!(
            text_of(br#"{"messages":[{"role":"user","content":"\ud800"}]}"#),
            None
        );
    }
}

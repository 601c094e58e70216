//! The guardrails the gateway benchmark checks requests against with `--guardrails N`: rules of
//! the kinds operators write — prompt-size caps, lists of codenames, and expressions for card
//! numbers, national ids, cloud and API keys, private keys, email addresses and prompt
//! injection — limited to a second team, so one run times the same requests with and without
//! them. None matches the benchmark's conversation: every rule is checked to its end, the most
//! a request can cost.

use domain::guardrails::GuardrailInput;
use domain::service::{guardrails, keys, teams};
use domain::teams::TeamInput;
use domain::{Actor, TeamId};
use tollgate::startup_error::StartupError;

/// A realistic conversation (about 1.6 KB of text): a system prompt, a question with context, an
/// answer and a follow-up.
pub fn conversation() -> serde_json::Value {
    serde_json::json!({
        "model": "bench",
        "max_tokens": 64,
        "messages": [
            {"role": "system", "content": "You are the support assistant of a company that sells \
                accounting software to small businesses. Answer in plain English, in at most \
                three short paragraphs. When you are not sure, say so and suggest contacting \
                the support team through the help centre. Never promise refunds or discounts."},
            {"role": "user", "content": "Hello! We upgraded to the new version last week and \
                since then the monthly report takes a very long time to open, sometimes more \
                than two minutes. Before the upgrade it opened in a few seconds. We have about \
                four thousand invoices this year and twelve people use the program at the same \
                time, mostly in the morning. Is there a setting we should change, or is this a \
                known problem with the new version?"},
            {"role": "assistant", "content": "Thanks for the details. Reports got a new layout \
                in this version, and the first time a large report opens it builds an index, \
                which can take a while. After that it should be quick again. If it stays slow, \
                check that the program is not set to recalculate every report when it opens."},
            {"role": "user", "content": [{"type": "text", "text": "It has been slow every \
                morning for a week, so I do not think it is the first-time index. Where do I \
                find the recalculation setting, and could the number of people working at the \
                same time matter?"}]}
        ]
    })
}

/// A team, "Guarded", with a key, and `count` blocking rules limited to it. Answers the team
/// and the key's secret.
///
/// # Errors
/// [`StartupError::Setup`] when the database cannot be written.
pub async fn guarded_team(
    db: &domain::db::DatabaseConnection,
    owner: &Actor,
    count: usize,
) -> Result<(TeamId, String), StartupError> {
    let input = TeamInput {
        name: "Guarded".into(),
        limit: "1000000".into(),
        ..TeamInput::default()
    };
    let team = teams::create(db, owner, &input)
        .await
        .map_err(StartupError::Setup)?
        .id;
    let key = keys::issue(
        db,
        owner,
        keys::IssueInput {
            name: "bench-guarded".into(),
            team: Some(team),
            ..Default::default()
        },
    )
    .await
    .map_err(StartupError::Setup)?;
    let models = ["bench".to_owned()];
    for n in 0..count {
        guardrails::add(db, owner, &rule(n, team), &models)
            .await
            .map_err(StartupError::Setup)?;
    }
    Ok((team, key.secret))
}

const EXPRESSIONS: [&str; 8] = [
    r"\b(?:\d[ -]?){13,16}\b",
    r"\b\d{3}-\d{2}-\d{4}\b",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"\bsk-[A-Za-z0-9_-]{20,}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    r"(?i)ignore (?:all )?(?:previous|prior|above) instructions",
    r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b",
];

const CODENAMES: [&str; 12] = [
    "falcon",
    "osprey",
    "kestrel",
    "merlin",
    "harrier",
    "condor",
    "buzzard",
    "peregrine",
    "goshawk",
    "gyrfalcon",
    "lanner",
    "hobby",
];

/// The `n`th rule: two prompt-size caps, eight expressions, then lists of codenames.
fn rule(n: usize, team: TeamId) -> GuardrailInput {
    let base = GuardrailInput {
        name: format!("Bench rule {n}"),
        teams: vec![team.0.to_string()],
        enforcement: "block".into(),
        ..GuardrailInput::default()
    };
    match n {
        0 | 1 => GuardrailInput {
            check: "prompt_size".into(),
            max_bytes: ((n + 1) * 100_000).to_string(),
            ..base
        },
        2..=9 => GuardrailInput {
            check: "pattern".into(),
            patterns: EXPRESSIONS[n - 2].to_owned(),
            ..base
        },
        _ => GuardrailInput {
            check: "terms".into(),
            patterns: CODENAMES
                .iter()
                .map(|c| format!("project {c}{n}"))
                .collect::<Vec<_>>()
                .join("\n"),
            ..base
        },
    }
}

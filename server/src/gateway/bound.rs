//! What a chat request can cost at most, and the request as forwarded so that the upstream
//! cannot bill past it (the hard cap's worst case): the output limit clamped and written into
//! both limit fields, every choice (`n`) counted, images held at the model's bound, and the
//! options that change the price refused.
//!
//! The body is read without building a JSON tree: the top level keeps each field's raw text,
//! and `messages` is walked only for the kinds of its content parts, so a large or deeply
//! nested body costs no more memory than its bytes.

use super::catalog::{Catalog, Model};
use super::error::ApiError;
use domain::TeamId;
use domain::money::Money;
use domain::pricing::{max_output, prompt_bound};
use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::{RawValue, to_raw_value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The most choices one request may ask for (OpenAI's own maximum).
const MAX_CHOICES: u64 = 128;

/// The fields of OpenAI's chat completions request. Anything else — a provider's extension
/// (fallback models, plugins, data sources) — may change what the upstream bills, so it is
/// refused rather than forwarded; the priced ones among these are refused below.
const KNOWN_FIELDS: [&str; 34] = [
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "messages",
    "metadata",
    "modalities",
    "model",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

/// What `stream_options` may hold (running usage counts are not asked for: the final one is).
const STREAM_OPTIONS: [&str; 2] = ["include_usage", "include_obfuscation"];

/// How the answer goes back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Whole,
    /// As server-sent events; `usage_asked`: the client itself asked for the usage chunk.
    Stream {
        usage_asked: bool,
    },
}

/// A checked request, ready to forward.
#[derive(Debug)]
pub struct Bounded {
    pub model: Arc<Model>,
    pub delivery: Delivery,
    /// The bodies sent upstream.
    pub forwarded: Forwarded,
    /// The most the upstream can bill for it.
    pub worst: Money,
    /// The most tokens it can use, prompt and output: what a tokens-per-minute limit holds.
    pub tokens: u64,
}

type Fields = BTreeMap<String, Box<RawValue>>;

/// The body for each of a route's targets: they differ only in the model name. The first
/// target's is written at once; a fallback's when the target before it failed.
#[derive(Debug)]
pub struct Forwarded {
    /// For the first target.
    pub first: Vec<u8>,
    /// The fields, for the other targets (a route with one target keeps none).
    others: Option<Fields>,
}

impl Forwarded {
    /// The body for target `index` (from 0), which asks for model `upstream_name`; the first
    /// target's is handed over, not copied.
    pub fn body_for(&mut self, index: usize, upstream_name: &str) -> Option<Vec<u8>> {
        if index == 0 {
            return Some(std::mem::take(&mut self.first));
        }
        let mut fields = self.others.clone()?;
        put(&mut fields, "model", &upstream_name).ok()?;
        serde_json::to_vec(&fields).ok()
    }
}

/// Why a request was not bounded.
#[derive(Debug)]
pub enum Unbounded {
    /// It cannot be forwarded or bounded (400), or names no model on offer (404).
    Refused(ApiError),
    /// It names a route kept to other teams than the key's: refused in the same words as a
    /// model that does not exist (so one team cannot learn another's route names), and counted.
    NotForTeam(ApiError),
}

impl From<ApiError> for Unbounded {
    fn from(error: ApiError) -> Self {
        Unbounded::Refused(error)
    }
}

/// Checks `body` against `catalog` for a key of `team` and works out its worst case; `capped`
/// says whether a limit applies to the key (requests that cannot be bounded are refused only
/// then).
///
/// # Errors
/// [`Unbounded`]: 400 for a request the gateway cannot forward or bound, 404 for an unknown
/// model or a route the team may not use — checked before anything else about the route.
pub fn bound(
    body: &[u8],
    catalog: &Catalog,
    capped: bool,
    team: Option<TeamId>,
) -> Result<Bounded, Unbounded> {
    let mut fields: Fields = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(None, format!("The request body is not a JSON object: {e}"))
    })?;
    let name: String = read(&fields, "model")?
        .ok_or_else(|| ApiError::invalid(Some("model"), "`model` is required."))?;
    let model = catalog
        .model(&name)
        .cloned()
        .ok_or_else(|| ApiError::unknown_model(&name))?;
    if !model.open_to(team) {
        return Err(Unbounded::NotForTeam(ApiError::unknown_model(&name)));
    }
    let streaming = read::<bool>(&fields, "stream")?.unwrap_or(false);
    if let Some(unknown) = fields.keys().find(|f| !KNOWN_FIELDS.contains(&f.as_str())) {
        return Err(ApiError::invalid(
            None,
            format!(
                "`{unknown}` is not a chat completions field this gateway can price; leave it out."
            ),
        )
        .into());
    }
    refuse_priced_options(&fields)?;
    let choices = choices(&fields)?;
    let images = images(&fields)?;
    let image_tokens = match (images, model.image_input_tokens) {
        (0, _) => 0,
        (n, Some(each)) => n.saturating_mul(each),
        (_, None) if !capped => 0,
        (_, None) => {
            return Err(Unbounded::Refused(ApiError::invalid(
                Some("messages"),
                format!(
                    "The model `{name}` takes no images through this gateway for keys with a \
                     spend limit: a target of its route sets no tokens per image, so what an \
                     image costs cannot be held."
                ),
            )));
        }
    };
    let max_out = limit_output(&mut fields, &model)?;
    let delivery = if streaming {
        Delivery::Stream {
            usage_asked: ask_for_usage(&mut fields)?,
        }
    } else {
        Delivery::Whole
    };
    let first_name = &model.targets[0].upstream_name;
    put(&mut fields, "model", first_name)?;
    let first = serde_json::to_vec(&fields).map_err(|_| ApiError::unavailable())?;
    // The longest body any target is sent bounds the prompt: the names may differ in length.
    let quoted = |name: &str| serde_json::to_string(name).map_or(0, |q| q.len());
    let longer_by = model
        .targets
        .iter()
        .map(|t| quoted(&t.upstream_name).saturating_sub(quoted(first_name)))
        .max()
        .unwrap_or(0);
    let prompt = prompt_bound(first.len().saturating_add(longer_by)).saturating_add(image_tokens);
    let output = max_out.saturating_mul(choices);
    let worst = model.worst_case(prompt, output);
    let others = (model.targets.len() > 1).then_some(fields);
    Ok(Bounded {
        model,
        delivery,
        forwarded: Forwarded { first, others },
        worst,
        tokens: prompt.saturating_add(output),
    })
}

/// Field `name` as a `T`; `None` when absent or null.
fn read<'a, T: Deserialize<'a>>(
    fields: &'a Fields,
    name: &'static str,
) -> Result<Option<T>, ApiError> {
    match fields.get(name) {
        None => Ok(None),
        Some(raw) => serde_json::from_str::<Option<T>>(raw.get())
            .map_err(|_| ApiError::invalid(Some(name), format!("`{name}` has the wrong type."))),
    }
}

fn put(fields: &mut Fields, name: &str, value: &impl serde::Serialize) -> Result<(), ApiError> {
    let raw = to_raw_value(value).map_err(|_| ApiError::unavailable())?;
    fields.insert(name.to_owned(), raw);
    Ok(())
}

/// The request's output limit clamped to the model's maximum, written into every limit field it
/// sent (`max_completion_tokens` when it sent none), so the upstream cannot go past what is held.
fn limit_output(fields: &mut Fields, model: &Model) -> Result<u64, ApiError> {
    const FIELDS: [&str; 2] = ["max_tokens", "max_completion_tokens"];
    let mut asked = Vec::new();
    for field in FIELDS {
        if let Some(n) = read::<serde_json::Number>(fields, field)? {
            let n = n.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::invalid(
                    Some(field),
                    format!("`{field}` must be a positive whole number."),
                )
            })?;
            asked.push((field, n));
        }
    }
    let limit = max_output(asked.iter().map(|(_, n)| *n).min(), model.max_output_tokens);
    if asked.is_empty() {
        put(fields, "max_completion_tokens", &limit)?;
    }
    for (field, _) in asked {
        put(fields, field, &limit)?;
    }
    Ok(limit)
}

/// How many answers the request asks for (`n`), each of which can run to the output limit.
fn choices(fields: &Fields) -> Result<u64, ApiError> {
    let bad = || {
        ApiError::invalid(
            Some("n"),
            format!("`n` must be a whole number from 1 to {MAX_CHOICES}."),
        )
    };
    let n = read::<serde_json::Number>(fields, "n").map_err(|_| bad())?;
    match n {
        None => Ok(1),
        Some(n) => n
            .as_u64()
            .filter(|n| (1..=MAX_CHOICES).contains(n))
            .ok_or_else(bad),
    }
}

/// Options that make the upstream bill at prices the providers file does not give.
fn refuse_priced_options(fields: &Fields) -> Result<(), ApiError> {
    let priced = |param: &'static str, what: &str| {
        ApiError::invalid(
            Some(param),
            format!("`{param}` {what}, which this gateway cannot price; leave it out."),
        )
    };
    if let Some(tier) = read::<String>(fields, "service_tier")?
        && !matches!(tier.as_str(), "auto" | "default" | "flex")
    {
        return Err(priced("service_tier", "asks for a dearer service tier"));
    }
    if let Some(modalities) = read::<Vec<String>>(fields, "modalities")?
        && modalities.iter().any(|m| m != "text")
    {
        return Err(priced("modalities", "asks for output other than text"));
    }
    for (param, what) in [
        ("audio", "asks for audio output"),
        ("prediction", "bills rejected predicted tokens"),
        ("web_search_options", "adds web searches"),
    ] {
        if read::<IgnoredAny>(fields, param)?.is_some() {
            return Err(priced(param, what));
        }
    }
    Ok(())
}

/// How many image parts the messages hold; parts and fields the gateway cannot price are
/// refused. Counted as they are read: nothing of the messages is kept.
fn images(fields: &Fields) -> Result<u64, ApiError> {
    let Some(raw) = fields.get("messages") else {
        return Ok(0);
    };
    let messages: Option<Messages> = serde_json::from_str(raw.get()).map_err(|e| {
        let message = e.to_string();
        let what = message.split(" at line ").next().unwrap_or_default();
        let text = if let Some(kind) = what.strip_prefix(UNPRICED) {
            format!("Content parts of type `{kind}` cannot be priced by this gateway.")
        } else if let Some(field) = what.strip_prefix("unknown field ") {
            let field = field.split(',').next().unwrap_or_default();
            format!("`messages` holds the field {field}, which this gateway cannot price.")
        } else {
            "`messages` must be a list of messages with text or parts as content.".to_owned()
        };
        ApiError::invalid(Some("messages"), text)
    })?;
    Ok(messages.map_or(0, |m| m.images))
}

/// The start of the error a content part of an unpriced kind raises.
const UNPRICED: &str = "unpriced part ";

/// The messages, reduced to how many images they hold.
struct Messages {
    images: u64,
}

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Each;
        impl<'de> Visitor<'de> for Each {
            type Value = Messages;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of messages")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut list: A) -> Result<Messages, A::Error> {
                let mut images = 0_u64;
                while let Some(message) = list.next_element::<Message>()? {
                    images = images.saturating_add(message.content.images);
                }
                Ok(Messages { images })
            }
        }
        deserializer.deserialize_seq(Each)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Message {
    role: IgnoredAny,
    #[serde(default)]
    content: Content,
    name: Option<IgnoredAny>,
    tool_calls: Option<IgnoredAny>,
    tool_call_id: Option<IgnoredAny>,
    function_call: Option<IgnoredAny>,
    refusal: Option<IgnoredAny>,
}

/// A message's content, reduced to how many images it holds.
#[derive(Default)]
struct Content {
    images: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    text: Option<IgnoredAny>,
    image_url: Option<IgnoredAny>,
    refusal: Option<IgnoredAny>,
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ContentVisitor)
    }
}

struct ContentVisitor;

impl<'de> Visitor<'de> for ContentVisitor {
    type Value = Content;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text or a list of content parts")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Content, E> {
        Ok(Content::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Content, E> {
        Ok(Content::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut parts: A) -> Result<Content, A::Error> {
        let mut images = 0_u64;
        while let Some(part) = parts.next_element::<Part>()? {
            match part.kind.as_str() {
                "text" | "refusal" => {}
                "image_url" => images = images.saturating_add(1),
                other => return Err(de::Error::custom(format!("{UNPRICED}{other}"))),
            }
        }
        Ok(Content { images })
    }
}

/// Streams end with a usage chunk, which the request is settled to; answers whether the client
/// asked for it too (it is passed on only then).
fn ask_for_usage(fields: &mut Fields) -> Result<bool, ApiError> {
    let mut options: Fields = read(fields, "stream_options")?.unwrap_or_default();
    let asked = read::<bool>(&options, "include_usage")?.unwrap_or(false);
    if let Some(unknown) = options
        .keys()
        .find(|o| !STREAM_OPTIONS.contains(&o.as_str()))
    {
        return Err(ApiError::invalid(
            Some("stream_options"),
            format!("`stream_options.{unknown}` is not something this gateway can pass on."),
        ));
    }
    options.insert(
        "include_usage".to_owned(),
        to_raw_value(&true).map_err(|_| ApiError::unavailable())?,
    );
    put(fields, "stream_options", &options)?;
    Ok(asked)
}

//! Upstream providers as the Providers page shows and edits them: what a row says (never the
//! key, only whether one is set and its last four characters), what a form sends, and the rules
//! a provider must meet — the same for the page and the providers file.

use crate::Error;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest a name may be.
pub const MAX_NAME: usize = 64;
/// The longest an upstream key may be.
pub const MAX_KEY: usize = 512;
/// The longest a base URL may be.
pub const MAX_URL: usize = 2048;
/// The timeout a provider gets when none is given, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u32 = 300;
/// The longest timeout, in seconds (an hour: a long streamed answer).
pub const MAX_TIMEOUT_SECS: u32 = 3600;

/// What "OpenAI-compatible" covers, as the page says it.
pub const KIND_HINT: &str = "Any upstream that answers OpenAI's API under its base URL: POST /chat/completions and GET /models with a Bearer key — OpenAI, Azure OpenAI's v1 API, OpenRouter, Together, Groq, Mistral, vLLM, Ollama, LiteLLM and the like.";

/// One provider on the Providers page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRow {
    pub id: i64,
    pub name: String,
    pub base_url: String,
    /// The last four characters of the key, when one is set.
    pub key_last4: Option<String>,
    /// For a provider from the providers file: the environment variable its key is read from.
    pub key_env: Option<String>,
    pub timeout_secs: u32,
    pub enabled: bool,
    /// Made by the providers file: read-only here, changed by editing the file.
    pub from_file: bool,
    /// The last connection test, if any.
    pub health: Option<Health>,
    /// The routes that send to this provider, by name.
    pub routes: Vec<String>,
}

/// The outcome of a connection test and when it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub at: DateTime<Utc>,
    pub outcome: Probe,
}

/// What the provider answered `GET /models` with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Probe {
    /// 2xx, listing this many models.
    Ok { models: u32 },
    /// Another HTTP status.
    Status(u16),
    /// No answer: the reason in words (never the key, never the raw body).
    Failed(String),
}

impl Probe {
    pub fn is_ok(&self) -> bool {
        matches!(self, Probe::Ok { .. })
    }

    /// The outcome in a few words.
    pub fn summary(&self) -> String {
        match self {
            Probe::Ok { models: 1 } => "OK · 1 model".to_owned(),
            Probe::Ok { models } => format!("OK · {models} models"),
            Probe::Status(401 | 403) => "Key refused".to_owned(),
            Probe::Status(code) => format!("HTTP {code}"),
            Probe::Failed(why) => why.clone(),
        }
    }
}

/// The Providers page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidersView {
    pub rows: Vec<ProviderRow>,
    /// How many routes there are.
    pub routes: u64,
    /// Whether the reader may add, edit, disable or delete (Owners and Admins).
    pub can_change: bool,
    /// When the page was read (what "5 min ago" counts from).
    pub generated_at: DateTime<Utc>,
}

/// The Add and Edit form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInput {
    pub name: String,
    pub base_url: String,
    /// Blank when editing: keep the key that is set.
    pub api_key: String,
    /// Blank: the default.
    pub timeout_secs: String,
}

/// A provider's settings once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSpec {
    pub name: String,
    /// Without a trailing slash.
    pub base_url: String,
    /// `None`: keep the key there is (or none, when adding).
    pub api_key: Option<String>,
    pub timeout_secs: u32,
}

impl ProviderInput {
    /// Checks every field, naming the first that cannot be used.
    ///
    /// # Errors
    /// [`Error::Validation`] for the field at fault.
    pub fn check(&self) -> Result<ProviderSpec, Error> {
        let name = check_name(&self.name)?;
        let base_url = check_base_url(&self.base_url)
            .map_err(|e| Error::validation("base_url", e.to_string()))?;
        let key = self.api_key.trim();
        check_key(key).map_err(|m| Error::validation("api_key", m))?;
        let timeout = self.timeout_secs.trim();
        let timeout_secs = if timeout.is_empty() {
            DEFAULT_TIMEOUT_SECS
        } else {
            timeout
                .parse::<u32>()
                .ok()
                .filter(|t| timeout_ok(u64::from(*t)))
                .ok_or_else(|| {
                    Error::validation(
                        "timeout_secs",
                        format!("Enter whole seconds from 1 to {MAX_TIMEOUT_SECS}."),
                    )
                })?
        };
        Ok(ProviderSpec {
            name,
            base_url,
            api_key: (!key.is_empty()).then(|| key.to_owned()),
            timeout_secs,
        })
    }
}

/// A provider's name: 1–64 letters, digits, `-`, `_` or `.`, as models and the file refer to it.
///
/// # Errors
/// [`Error::Validation`] on `name`.
pub fn check_name(input: &str) -> Result<String, Error> {
    let name = input.trim();
    if name.is_empty() {
        return Err(Error::validation("name", "Enter a name."));
    }
    if name.chars().count() > MAX_NAME
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(Error::validation(
            "name",
            format!("Use up to {MAX_NAME} letters, digits, dashes, dots or underscores."),
        ));
    }
    Ok(name.to_owned())
}

/// An upstream key a request header can carry: up to [`MAX_KEY`] visible ASCII characters (no
/// spaces, line breaks or control characters).
///
/// # Errors
/// Why not, in words for the field.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.len() > MAX_KEY {
        return Err(format!("A key is at most {MAX_KEY} characters."));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "A key is letters, digits and punctuation only: no spaces, line breaks or other characters."
                .to_owned(),
        );
    }
    Ok(())
}

/// The key two names clash by: names differing only in case are the same provider.
pub fn name_key(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// Why a base URL cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseUrlError {
    /// Not an http(s) URL with a host.
    NotHttp,
    /// It has a query, fragment or credentials.
    HasExtras,
    /// Longer than [`MAX_URL`].
    TooLong,
    /// A link-local or cloud metadata address: never an upstream.
    Metadata,
}

impl std::fmt::Display for BaseUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BaseUrlError::NotHttp => {
                "Enter an http:// or https:// URL, like https://api.openai.com/v1."
            }
            BaseUrlError::HasExtras => {
                "Leave out any query, fragment or user name: the key goes in its own field."
            }
            BaseUrlError::TooLong => "A base URL is at most 2,048 characters.",
            BaseUrlError::Metadata => {
                "That is a link-local or cloud metadata address, which is never a model provider."
            }
        })
    }
}

/// A base URL the gateway can append `/chat/completions` and `/models` to: http(s), with a
/// host, no query, fragment or credentials (the key has a field of its own and a URL may be
/// printed). Returned without a trailing slash.
///
/// # Errors
/// [`BaseUrlError`]: why not.
pub fn check_base_url(input: &str) -> Result<String, BaseUrlError> {
    if input.trim().len() > MAX_URL {
        return Err(BaseUrlError::TooLong);
    }
    let url = url::Url::parse(input.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or(BaseUrlError::NotHttp)?;
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(BaseUrlError::HasExtras);
    }
    if is_metadata_host(&url) {
        return Err(BaseUrlError::Metadata);
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Link-local addresses (where clouds serve instance metadata and credentials) and the names
/// clouds give that service: a provider there would let whoever configures it read them.
fn is_metadata_host(url: &url::Url) -> bool {
    match url.host() {
        // 100.100.100.200: Alibaba Cloud's metadata service.
        Some(url::Host::Ipv4(ip)) => ip.is_link_local() || ip.octets() == [100, 100, 100, 200],
        // fd00:ec2::254: AWS's over IPv6.
        Some(url::Host::Ipv6(ip)) => {
            (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip.segments() == [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local())
        }
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "metadata.google.internal" || name == "metadata" || name == "instance-data"
        }
        None => false,
    }
}

/// The origin (scheme://host:port) of a base URL: what a sealed key is bound to.
pub fn origin_of(base_url: &str) -> String {
    url::Url::parse(base_url).map_or_else(
        |_| base_url.to_owned(),
        |u| u.origin().ascii_serialization(),
    )
}

/// Whether two base URLs reach the same server (scheme, host and port): a stored key may go on
/// being sent when a URL's path changes, but not to another server.
pub fn same_server(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

/// A timeout in whole seconds from 1 to [`MAX_TIMEOUT_SECS`].
pub fn timeout_ok(secs: u64) -> bool {
    (1..=u64::from(MAX_TIMEOUT_SECS)).contains(&secs)
}

/// The last four characters of a key, as the page shows it.
pub fn last4(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, base_url: &str, key: &str, timeout: &str) -> ProviderInput {
        ProviderInput {
            name: name.into(),
            base_url: base_url.into(),
            api_key: key.into(),
            timeout_secs: timeout.into(),
        }
    }

    fn field_of(result: Result<ProviderSpec, Error>) -> String {
        match result {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_provider_is_trimmed_and_defaulted() {
        let spec = input(
            " openai ",
            "https://api.openai.com/v1/",
            " sk-abcd1234 ",
            "",
        )
        .check()
        .unwrap();
        assert_eq!(spec.name, "openai");
        assert_eq!(spec.base_url, "https://api.openai.com/v1");
        assert_eq!(spec.api_key.as_deref(), Some("sk-abcd1234"));
        assert_eq!(spec.timeout_secs, DEFAULT_TIMEOUT_SECS);
        let keep = input("local", "http://127.0.0.1:8000", "", "30")
            .check()
            .unwrap();
        assert_eq!((keep.api_key, keep.timeout_secs), (None, 30));
    }

    #[test]
    fn each_bad_field_is_named() {
        let ok = "https://api.example.com/v1";
        for (bad, field) in [
            (input("", ok, "", ""), "name"),
            (input("open ai", ok, "", ""), "name"),
            (input(&"x".repeat(65), ok, "", ""), "name"),
            (input("a", "api.example.com", "", ""), "base_url"),
            (input("a", "ftp://example.com", "", ""), "base_url"),
            (input("a", "https://example.com/v1?v=1", "", ""), "base_url"),
            (input("a", "https://u:p@example.com", "", ""), "base_url"),
            (input("a", ok, "sk two", ""), "api_key"),
            (input("a", ok, "sk\u{1}x", ""), "api_key"),
            (input("a", ok, "sk-é", ""), "api_key"),
            (
                input("a", "http://169.254.169.254/latest", "", ""),
                "base_url",
            ),
            (input("a", "http://[fe80::1]/v1", "", ""), "base_url"),
            (input("a", "http://[fd00:ec2::254]/v1", "", ""), "base_url"),
            (input("a", "http://100.100.100.200/v1", "", ""), "base_url"),
            (input("a", "http://2852039166/v1", "", ""), "base_url"),
            (
                input("a", "http://metadata.google.internal/v1", "", ""),
                "base_url",
            ),
            (
                input(
                    "a",
                    &format!("https://x.example/{}", "a".repeat(2100)),
                    "",
                    "",
                ),
                "base_url",
            ),
            (input("a", ok, &"k".repeat(513), ""), "api_key"),
            (input("a", ok, "", "0"), "timeout_secs"),
            (input("a", ok, "", "-5"), "timeout_secs"),
            (input("a", ok, "", "3601"), "timeout_secs"),
            (input("a", ok, "", "ten"), "timeout_secs"),
        ] {
            assert_eq!(field_of(bad.check()), field, "{bad:?}");
        }
    }

    #[test]
    fn a_key_follows_a_path_change_but_not_a_new_server() {
        assert!(same_server("https://a.example/v1", "https://a.example/v2"));
        assert!(!same_server("https://a.example/v1", "https://b.example/v1"));
        assert!(!same_server("https://a.example/v1", "http://a.example/v1"));
        assert!(!same_server(
            "https://a.example/v1",
            "https://a.example:8443/v1"
        ));
    }

    #[test]
    fn names_clash_whatever_their_case() {
        assert_eq!(name_key("OpenAI"), name_key("openai "));
    }

    #[test]
    fn only_the_last_four_characters_show() {
        assert_eq!(last4("sk-abcdef1234"), "1234");
        assert_eq!(last4("ab"), "ab");
    }

    #[test]
    fn probes_read_as_people_say_them() {
        assert_eq!(Probe::Ok { models: 3 }.summary(), "OK · 3 models");
        assert_eq!(Probe::Status(401).summary(), "Key refused");
        assert_eq!(Probe::Status(503).summary(), "HTTP 503");
    }
}

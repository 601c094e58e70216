//! The Providers page's connection test: `GET {base_url}/models` with the provider's key, and
//! what came back in a few words — the HTTP status and how many models it listed, or why there
//! was no answer. Never the key, never the raw body.

use app::context::Prober;
use domain::providers::Probe;
use domain::service::providers::Upstream;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The longest a test waits, whatever the provider's own timeout.
const MOST: Duration = Duration::from_secs(10);

/// The most of an answer read: a model list is a few kilobytes.
const MOST_BYTES: usize = 1024 * 1024;

/// Tests over HTTP(S) with one pooled client that follows no redirect.
#[derive(Debug)]
pub struct HttpProber {
    http: reqwest::Client,
}

impl Default for HttpProber {
    fn default() -> Self {
        HttpProber {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }
}

/// How many models a `GET /models` answer lists, reading at most [`MOST_BYTES`] of it.
async fn listed(mut answer: reqwest::Response) -> Option<usize> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = answer.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > MOST_BYTES {
            return None;
        }
    }
    let value: serde_json::Value = serde_json::from_slice(&body).ok()?;
    value.get("data")?.as_array().map(Vec::len)
}

impl Prober for HttpProber {
    fn probe<'a>(
        &'a self,
        upstream: &'a Upstream,
    ) -> Pin<Box<dyn Future<Output = Probe> + Send + 'a>> {
        Box::pin(async move {
            let wait = Duration::from_secs(u64::from(upstream.timeout_secs)).min(MOST);
            let mut request = self
                .http
                .get(format!("{}/models", upstream.base_url))
                .timeout(wait);
            if let Some(key) = &upstream.api_key {
                request = request.bearer_auth(key.expose());
            }
            match request.send().await {
                Ok(answer) if answer.status().is_success() => match listed(answer).await {
                    Some(n) => Probe::Ok {
                        models: u32::try_from(n).unwrap_or(u32::MAX),
                    },
                    None => Probe::Failed("Not an OpenAI model list".to_owned()),
                },
                Ok(answer) => Probe::Status(answer.status().as_u16()),
                Err(e) => Probe::Failed(why(&e, wait)),
            }
        })
    }
}

/// Why a request got no answer, in words (the error's own text may carry the URL).
fn why(e: &reqwest::Error, wait: Duration) -> String {
    if e.is_timeout() {
        format!("No answer within {} s", wait.as_secs())
    } else if e.is_connect() {
        "Could not connect".to_owned()
    } else {
        "Connection failed".to_owned()
    }
}

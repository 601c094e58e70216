//! Per-minute limits on the request path: which of a key's and its team's limits apply, and the
//! `x-ratelimit-*` headers OpenAI clients read to see where they stand. The buckets themselves
//! are `domain::service::rate_limiter`.

use domain::service::keys::KeyAuth;
use domain::service::rate_limiter::{Holder, Limit, Measure, Standing};
use http::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

/// The limits that apply to a request made with `auth`: the key's own, and its team's.
pub fn limits_of(auth: &KeyAuth) -> Vec<Limit> {
    let mut limits = Vec::new();
    let mut add = |holder, rates: domain::rate_limits::RateLimits| {
        for (measure, per_minute) in [
            (Measure::Requests, rates.requests_per_minute),
            (Measure::Tokens, rates.tokens_per_minute),
        ] {
            if let Some(per_minute) = per_minute {
                limits.push(Limit {
                    holder,
                    measure,
                    per_minute,
                });
            }
        }
    };
    add(Holder::Key(auth.key), auth.rates);
    if let Some(team) = auth.team {
        add(Holder::Team(team), auth.team_rates);
    }
    limits
}

/// `x-ratelimit-limit-requests`, `-remaining-requests`, `-reset-requests` and the same for
/// tokens, for the tightest limit of each measure that applies.
pub fn headers(requests: Option<Standing>, tokens: Option<Standing>) -> HeaderMap {
    const NAMES: [[&str; 3]; 2] = [
        [
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ],
        [
            "x-ratelimit-limit-tokens",
            "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens",
        ],
    ];
    let mut headers = HeaderMap::new();
    for (names, standing) in NAMES.iter().zip([requests, tokens]) {
        let Some(s) = standing else { continue };
        let values = [
            HeaderValue::from(s.limit),
            HeaderValue::from(s.remaining),
            HeaderValue::try_from(duration_text(s.reset)).unwrap_or(HeaderValue::from_static("0s")),
        ];
        for (name, value) in names.iter().zip(values) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    headers
}

/// A duration as OpenAI's reset headers write it: `250ms`, `1s`, `1.5s`, `6m0s`.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let (minutes, rest_ms) = (ms / 60_000, ms % 60_000);
    let seconds = if rest_ms.is_multiple_of(1_000) {
        format!("{}s", rest_ms / 1_000)
    } else {
        let text = format!("{:.3}", rest_ms as f64 / 1_000.0);
        format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
    };
    if minutes > 0 {
        format!("{minutes}m{seconds}")
    } else {
        seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_openai_writes_them() {
        assert_eq!(duration_text(Duration::from_millis(250)), "250ms");
        assert_eq!(duration_text(Duration::from_secs(1)), "1s");
        assert_eq!(duration_text(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(duration_text(Duration::from_secs(360)), "6m0s");
        assert_eq!(duration_text(Duration::from_millis(61_250)), "1m1.25s");
    }

    #[test]
    fn headers_name_each_measure() {
        let h = headers(
            Some(Standing {
                limit: 60,
                remaining: 59,
                reset: Duration::from_secs(1),
            }),
            None,
        );
        assert_eq!(h["x-ratelimit-limit-requests"], "60");
        assert_eq!(h["x-ratelimit-remaining-requests"], "59");
        assert_eq!(h["x-ratelimit-reset-requests"], "1s");
        assert!(!h.contains_key("x-ratelimit-limit-tokens"));
    }
}

//! Gateway refusals in OpenAI's error shape (`{"error": {"message", "type", "param", "code"}}`),
//! so OpenAI clients raise their usual exceptions with our message.

use axum::Json;
use axum::response::{IntoResponse, Response};
use domain::entity::budget_lease::BudgetKind;
use domain::money::Money;
use domain::service::keys::KeyRefused;
use domain::service::leases::OverBudget;
use domain::service::rate_limiter::{Measure, Refused};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

/// One refusal: the status and the body's fields.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    param: Option<&'static str>,
    message: String,
    /// What few refusals carry besides; boxed, so a `Result` of one stays small.
    more: Option<Box<More>>,
}

/// A refusal's extras.
#[derive(Debug, Default)]
struct More {
    /// The part of the message that stays the same from one request to the next (without the
    /// figures of the moment), as refusals are counted by it; `None` when that is all of it.
    reason: Option<String>,
    /// More fields inside `error` (the budget figures).
    extra: Option<Value>,
    /// Headers the refusal carries (`Retry-After`, `x-ratelimit-*`).
    headers: Option<HeaderMap>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &'static str,
        code: Option<&'static str>,
        message: String,
    ) -> Self {
        ApiError {
            status,
            kind,
            code,
            param: None,
            message,
            more: None,
        }
    }

    /// 400: the request body is not what the API takes.
    pub fn invalid(param: Option<&'static str>, message: impl Into<String>) -> Self {
        ApiError {
            param,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                message.into(),
            )
        }
    }

    /// 404, or 405 when the path is served but with another method (`allow`): a path under
    /// `/v1` the gateway does not serve — in OpenAI's words, so a client shows what it asked for.
    pub fn no_such_endpoint(
        method: &axum::http::Method,
        path: &str,
        allow: Option<&'static str>,
    ) -> Self {
        let Some(allow) = allow else {
            return Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                None,
                format!("Invalid URL ({method} {path})"),
            );
        };
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ALLOW, HeaderValue::from_static(allow));
        ApiError {
            more: Some(Box::new(More {
                headers: Some(headers),
                ..More::default()
            })),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                None,
                format!("Invalid method for URL ({method} {path})"),
            )
        }
    }

    /// 408: the body did not arrive within the server's read timeout.
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            Some("request_timeout"),
            "The request body did not arrive in time; send it without pausing.".into(),
        )
    }

    /// 413: a body longer than the gateway takes.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            format!("The request body is larger than the {limit} bytes this gateway accepts."),
        )
    }

    /// 401: no key, or a key that may not be used.
    pub fn missing_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "You didn't provide an API key. Send it as `Authorization: Bearer tg_…`.".into(),
        )
    }

    pub fn refused_key(why: KeyRefused) -> Self {
        match why {
            KeyRefused::Unavailable => Self::unavailable(),
            _ => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                Some("invalid_api_key"),
                why.to_string(),
            ),
        }
    }

    /// 404: a model the providers file does not offer.
    pub fn unknown_model(name: &str) -> Self {
        ApiError {
            param: Some("model"),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
                format!("The model `{name}` does not exist or you do not have access to it."),
            )
        }
    }

    /// 400: a guardrail that blocks matched the request; the rule is named, what it matched
    /// is not (the sender knows their own text, and a rule's terms stay the operator's).
    pub fn guardrail_blocked(rule: &str) -> Self {
        ApiError {
            param: Some("messages"),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("guardrail_blocked"),
                format!("This request was blocked by the gateway's guardrail “{rule}”."),
            )
        }
    }

    /// 404: a model this key may not call.
    pub fn model_not_allowed(name: &str, allowed: &[String]) -> Self {
        ApiError {
            param: Some("model"),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
                format!(
                    "This API key may not call the model `{name}`; it may call: {}.",
                    allowed.join(", ")
                ),
            )
        }
    }

    /// 429: a per-minute limit of the key or its team has no room for the request now, with
    /// when to try again (`Retry-After`, as OpenAI's clients honour it) — none when the request
    /// needs more tokens than the limit allows in a minute, so it never fits.
    pub fn rate_limited(refused: &Refused, standing: HeaderMap) -> Self {
        let limit = refused.limit;
        let what = match limit.measure {
            Measure::Requests => "requests per minute",
            Measure::Tokens => "tokens per minute",
        };
        let mut headers = standing;
        let holder = limit.holder.noun();
        let (message, reason) = match refused.retry_after {
            Some(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                headers.insert(http::header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
                let ms = wait.as_micros().div_ceil(1_000).max(1);
                if let Ok(ms) = HeaderValue::try_from(ms.to_string()) {
                    headers.insert("retry-after-ms", ms);
                }
                (
                    format!(
                        "Rate limit reached for {what} on this {holder}: limit {}, remaining {}, \
                         requested {}. Please try again in {}.",
                        limit.per_minute,
                        refused.remaining,
                        refused.requested,
                        super::rates::duration_text(wait)
                    ),
                    format!(
                        "Rate limit reached for {what} on this {holder}: limit {}.",
                        limit.per_minute
                    ),
                )
            }
            None => (
                format!(
                    "Request too large for {what} on this {holder}: limit {}, requested {}. \
                     Ask for fewer tokens (`max_completion_tokens`) or a shorter prompt.",
                    limit.per_minute, refused.requested
                ),
                format!(
                    "Request too large for {what} on this {holder}: limit {}.",
                    limit.per_minute
                ),
            ),
        };
        ApiError {
            more: Some(Box::new(More {
                headers: Some(headers),
                reason: Some(reason),
                extra: Some(json!({ "limit": holder })),
            })),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                limit.measure.name(),
                Some("rate_limit_exceeded"),
                message,
            )
        }
    }

    /// 402: a budget cannot hold this request — the key's, its owner's as a member, the team's,
    /// or a gateway-wide one (docs/architecture.md, the hard cap). `limit` says which. `worst` is
    /// what the request could cost: when the budget still has room, only less than that, the
    /// message says so and how to fit, rather than that the limit is reached.
    pub fn over_budget(over: &OverBudget, worst: Money) -> Self {
        const CENT: i64 = 10_000;
        let resets = over
            .resets_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let left = Money::from_micros(
            over.limit
                .micros()
                .saturating_sub(over.spent.micros().saturating_add(over.reserved.micros())),
        );
        // Less than a cent left is reached: the message could not show what is left.
        let reached = left < Money::from_micros(CENT);
        let dollars = |m: Money| m.micros() as f64 / 1_000_000.0;
        let (limit, who, what, has) = match over.budget {
            BudgetKind::Team => (
                "team",
                format!("Team ‘{}’", over.name),
                "its monthly spend limit",
                "has",
            ),
            BudgetKind::Member => (
                "member",
                over.name.clone(),
                "their monthly budget as a team member",
                "has",
            ),
            BudgetKind::Key => (
                "key",
                format!("API key ‘{}’", over.name),
                "its monthly budget",
                "has",
            ),
            BudgetKind::Gateway => (
                "gateway",
                "The gateway".to_owned(),
                "the monthly spend limit its Owners set",
                "has",
            ),
            BudgetKind::Teamless => (
                "teamless",
                "Keys outside any team".to_owned(),
                "the monthly spend cap the gateway's Owners set",
                "have",
            ),
        };
        let fit = "Lower max_tokens or n to fit.";
        let resets_at = format!("The limit resets at {resets}.");
        // The gateway-wide caps are an Owner's figures: a key holder learns only that one was
        // reached (or has too little left) and when it resets, not what the whole gateway spends.
        if matches!(over.budget, BudgetKind::Gateway | BudgetKind::Teamless) {
            let reason = if reached {
                format!("{who} {has} reached {what}.")
            } else {
                format!("This request could cost more than is left of {what}.")
            };
            let message = if reached {
                format!("{reason} {resets_at}")
            } else {
                format!("{reason} {fit} {resets_at}")
            };
            return ApiError {
                more: Some(Box::new(More {
                    extra: Some(json!({ "limit": limit, "resets_at": resets })),
                    reason: Some(reason),
                    headers: None,
                })),
                ..Self::new(
                    StatusCode::PAYMENT_REQUIRED,
                    "budget_exceeded",
                    Some("budget_exceeded"),
                    message,
                )
            };
        }
        let held = if over.reserved > Money::ZERO {
            format!(", {} held by requests in flight", over.reserved)
        } else {
            String::new()
        };
        let standing = format!("{} (spent {} this month{held})", over.limit, over.spent);
        let (reason, message) = if reached {
            (
                format!("{who} {has} reached {what} of {}.", over.limit),
                format!("{who} {has} reached {what} of {standing}. {resets_at}"),
            )
        } else {
            (
                format!(
                    "{who} {has} less left of {what} of {} than a request could cost.",
                    over.limit
                ),
                format!(
                    "{who} {has} {} left of {what} of {standing}; this request could cost up \
                     to {}. {fit} {resets_at}",
                    // Shown to the cent, so what is left never reads more, nor the request less.
                    Money::from_micros(left.micros() / CENT * CENT),
                    Money::from_micros((worst.micros() + CENT - 1) / CENT * CENT),
                ),
            )
        };
        let mut extra = json!({
                "limit": limit,
                "limit_usd": dollars(over.limit),
                "spent_usd": dollars(over.spent),
                "reserved_usd": dollars(over.reserved),
                "request_max_usd": dollars(worst),
                "resets_at": resets,
        });
        // Named as what refused it: `"key": "ci-bot"`, `"team": "Research"`.
        extra[limit] = json!(over.name);
        ApiError {
            more: Some(Box::new(More {
                extra: Some(extra),
                reason: Some(reason),
                headers: None,
            })),
            ..Self::new(
                StatusCode::PAYMENT_REQUIRED,
                "budget_exceeded",
                Some("budget_exceeded"),
                message,
            )
        }
    }

    /// 502: the upstream could not be reached or refused the gateway itself.
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            Some("upstream_error"),
            message.into(),
        )
    }

    /// 504: the upstream did not answer in time.
    pub fn upstream_timeout() -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_error",
            Some("upstream_timeout"),
            "The upstream provider did not answer in time.".into(),
        )
    }

    /// 503: our database is unavailable; try again.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("unavailable"),
            "The gateway cannot check keys or budgets right now. Try again shortly.".into(),
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What the client was told, without the figures of the moment: how refusals are counted.
    pub fn reason(&self) -> &str {
        self.more
            .as_ref()
            .and_then(|m| m.reason.as_deref())
            .unwrap_or(&self.message)
    }

    /// The body, as JSON.
    pub fn body(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        });
        let extra = self.more.as_ref().and_then(|m| m.extra.as_ref());
        if let (Some(Value::Object(extra)), Some(fields)) = (extra, error.as_object_mut()) {
            fields.extend(extra.clone());
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(headers) = self.more.and_then(|m| m.headers) {
            response.headers_mut().extend(headers);
        }
        response
    }
}

impl From<domain::Error> for ApiError {
    /// Domain errors on the request path are database trouble: answered as unavailable.
    fn from(_: domain::Error) -> Self {
        Self::unavailable()
    }
}

//! Times as people read them: "3 min ago", with the exact time on hover.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// How long before `now` the moment `at` was, in words.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..=59 => "just now".to_owned(),
        60..=3_599 => format!("{} min ago", secs / 60),
        3_600..=86_399 => plural(secs / 3_600, "hour"),
        86_400..=2_591_999 => plural(secs / 86_400, "day"),
        _ => at.format("%-d %b %Y").to_string(),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

/// The exact time, as shown on hover.
pub fn exact(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A `<time>` saying how long ago `at` was, or `never` when it has not happened.
#[component]
pub fn Ago(
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    #[prop(default = "Never")] never: &'static str,
) -> impl IntoView {
    match at {
        Some(at) => view! {
            <time datetime=at.to_rfc3339() title=exact(at)>
                {relative(at, now)}
            </time>
        }
        .into_any(),
        None => view! { <span class="muted">{never}</span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn reads_like_a_person_would_say_it() {
        let now = Utc::now();
        assert_eq!(relative(now - Duration::seconds(5), now), "just now");
        assert_eq!(relative(now - Duration::minutes(3), now), "3 min ago");
        assert_eq!(relative(now - Duration::hours(1), now), "1 hour ago");
        assert_eq!(relative(now - Duration::days(2), now), "2 days ago");
        assert!(relative(now - Duration::days(90), now).contains(' '));
    }
}

//! `/dashboard`: the Usage page — its controls (range, grouping), and the report as charts,
//! a table, forecasts and refusals ([`super::sections`]).

use super::api::read_usage;
use super::chart::{BarChart, Layer, Unit};
use super::sections::{Blocked, Forecasts, Totals};
use crate::components::{Loaded, PageHeader, SummaryCards};
use domain::numbers::grouped;
use domain::usage::{GroupBy, Period, Scope, UsageQuery, UsageReport, range_problem};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn UsagePage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let params = query_map.read();
        UsageQuery::from_params(|k| params.get(k))
    });
    let report = Resource::new(move || query.get(), read_usage);
    // A range that cannot be used says why, and keeps the days as typed.
    let problem = Memo::new(move |_| {
        let params = query_map.read();
        range_problem(|k| params.get(k))
    });
    let typed = Memo::new(move |_| {
        let params = query_map.read();
        (
            params.get("from").unwrap_or_default(),
            params.get("to").unwrap_or_default(),
        )
    });
    view! {
        <PageHeader
            title="Usage"
            lead="Spend, requests and refusals through this gateway, per day (UTC)."
        >
            <a class="btn btn-ghost" href=move || query.get().export_href() download="">
                "Export CSV"
            </a>
        </PageHeader>
        {move || view! { <Controls query=query.get() problem=problem.get() typed=typed.get() /> }}
        <Loaded
            resource=report
            loading="Loading usage…"
            show=move |r| { view! { <Report report=r query=query.get_untracked() /> }.into_any() }
        />
    }
}

/// The range (presets as links, or two days) and the grouping (links): plain links and a GET
/// form, so they work without JavaScript.
#[component]
fn Controls(
    query: UsageQuery,
    problem: Option<&'static str>,
    /// The days in the URL, as typed.
    typed: (String, String),
) -> impl IntoView {
    let presets = Period::PRESETS
        .into_iter()
        .map(|p| {
            let href = UsageQuery { period: p, ..query }.href();
            segment(href, query.period == p, p.label())
        })
        .collect_view();
    let groups = GroupBy::ALL
        .into_iter()
        .map(|g| {
            segment(
                UsageQuery { group: g, ..query }.href(),
                query.group == g,
                g.label(),
            )
        })
        .collect_view();
    let (from, to) = match query.period {
        Period::Between(from, to) => (from.to_string(), to.to_string()),
        _ => typed,
    };
    view! {
        <div class="usage-controls">
            <nav class="segments" aria-label="Time range">
                {presets}
            </nav>
            <form class="usage-dates" method="get" action="/dashboard" aria-label="Custom range">
                <input type="hidden" name="group" value=query.group.as_str() />
                <label class="inline-field">
                    "From"
                    <input
                        type="date"
                        name="from"
                        class="input"
                        value=from
                        required
                        aria-invalid=problem.map(|_| "true")
                        aria-describedby=problem.map(|_| "range-problem")
                    />
                </label>
                <label class="inline-field">
                    "To"
                    <input
                        type="date"
                        name="to"
                        class="input"
                        value=to
                        required
                        aria-invalid=problem.map(|_| "true")
                        aria-describedby=problem.map(|_| "range-problem")
                    />
                </label>
                <button type="submit" class="btn btn-ghost">
                    "Show"
                </button>
                {problem
                    .map(|p| {
                        view! {
                            <p id="range-problem" class="field-error" role="alert">
                                {format!(
                                    "{p} Showing {} instead.",
                                    query.period.label().to_lowercase(),
                                )}
                            </p>
                        }
                    })}
            </form>
            <nav class="segments" aria-label="Group by">
                <span class="segments-label">"Group by"</span>
                {groups}
            </nav>
        </div>
    }
}

/// One choice of a segmented control: a link, marked when it is the page's.
fn segment(href: String, current: bool, label: &'static str) -> impl IntoView {
    view! {
        <a class="segment" href=href aria-current=current.then_some("page")>
            {label}
        </a>
    }
}

/// Series colours of the top groups, in order ("Other" is always grey).
const SERIES: [&str; 8] = [
    "series-0", "series-1", "series-2", "series-3", "series-4", "series-5", "series-6", "series-7",
];

fn dollars(m: domain::money::Money) -> f64 {
    m.micros() as f64 / 1_000_000.0
}

#[component]
fn Report(report: UsageReport, query: UsageQuery) -> impl IntoView {
    let days: Vec<_> = report.days().collect();
    let range = format!(
        "{} to {}",
        report.first_day.format("%-d %b %Y"),
        report.last_day.format("%-d %b %Y")
    );
    let scope = match &report.scope {
        Scope::Everything => None,
        Scope::Team(name) => Some(format!(
            "Team ‘{name}’: your team's figures, and the refusals of your own keys."
        )),
        Scope::Own => {
            Some("You are not in a team: these are the figures of your own keys.".to_owned())
        }
    };
    let t = &report.total;
    let cards = vec![
        ("Spend", t.spend.to_string()),
        ("Requests", grouped(u64::try_from(t.requests).unwrap_or(0))),
        (
            "Tokens in / out",
            format!(
                "{} / {}",
                grouped(u64::try_from(t.tokens_in).unwrap_or(0)),
                grouped(u64::try_from(t.tokens_out).unwrap_or(0))
            ),
        ),
        ("Refused", grouped(u64::try_from(t.refusals).unwrap_or(0))),
    ];
    // The top groups in order; "Other" always grey.
    let colours: Vec<&'static str> = report
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.other {
                "series-other"
            } else {
                SERIES[i % SERIES.len()]
            }
        })
        .collect();
    let spend_layers: Vec<Layer> = report
        .series
        .iter()
        .map(|s| Layer {
            label: s.label.clone(),
            values: s.spend.iter().map(|m| dollars(*m)).collect(),
        })
        .collect();
    let spend_desc = format!(
        "Spend per day from {range}, stacked by {}: {} in all.",
        query.group.label().to_lowercase(),
        t.spend
    );
    let requests_desc = format!(
        "Requests served per day from {range}: {} in all.",
        grouped(u64::try_from(t.requests).unwrap_or(0))
    );
    let refusal_layers = {
        let pick = |f: fn(&domain::usage::RefusalCounts) -> i64| -> Vec<f64> {
            report.refusals.iter().map(|r| f(r) as f64).collect()
        };
        vec![
            Layer {
                label: "Over budget (402)".to_owned(),
                values: pick(|r| r.budget),
            },
            Layer {
                label: "Bad key (401)".to_owned(),
                values: pick(|r| r.key),
            },
            Layer {
                label: "Per-minute limit (429)".to_owned(),
                values: pick(|r| r.rate),
            },
            Layer {
                label: "Model not allowed (404)".to_owned(),
                values: pick(|r| r.model),
            },
        ]
    };
    let refused: i64 = report.refusals.iter().map(|r| r.total()).sum();
    let refusals_desc = format!(
        "Requests refused per day from {range}, by why: {} in all.",
        grouped(u64::try_from(refused).unwrap_or(0))
    );
    let requests_layer = vec![Layer {
        label: "Requests".to_owned(),
        values: report.requests.iter().map(|r| *r as f64).collect(),
    }];
    let members_view = !matches!(report.scope, Scope::Everything);
    view! {
        {scope.map(|s| view! { <p class="filter-note">{s}</p> })}
        <SummaryCards cards />
        <section class="panel">
            <BarChart
                id="chart-spend"
                title="Spend per day"
                description=spend_desc
                days=days.clone()
                layers=spend_layers
                unit=Unit::Dollars
                colours
            />
        </section>
        <div class="panel-pair">
            <section class="panel">
                <BarChart
                    id="chart-requests"
                    title="Requests per day"
                    description=requests_desc
                    days=days.clone()
                    layers=requests_layer
                    unit=Unit::Count
                    colours=vec!["series-requests"]
                    width=480.0
                />
            </section>
            <section class="panel">
                <BarChart
                    id="chart-refusals"
                    title="Refusals per day"
                    description=refusals_desc
                    days
                    layers=refusal_layers
                    unit=Unit::Count
                    colours=vec!["refusal-budget", "refusal-key", "refusal-rate", "refusal-model"]
                    width=480.0
                />
            </section>
        </div>
        <Totals rows=report.rows more=report.more_rows total=report.total.clone() query />
        <Forecasts forecasts=report.forecasts members_view />
        <Blocked blocked=report.blocked now=report.generated_at members_view />
    }
}

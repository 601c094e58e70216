//! The Usage page's parts below the charts: totals per group (sortable by links), each limited
//! team's forecast with its budget bar, and the refusals with the reason the client was given.

use crate::components::{Ago, BudgetBar, SortHeader};
use chrono::{DateTime, Utc};
use domain::list_query::SortDir;
use domain::numbers::grouped;
use domain::usage::{Blocked as BlockedRow, Forecast, GroupBy, GroupTotals, UsageQuery, UsageSort};
use leptos::prelude::*;

fn count(n: i64) -> String {
    grouped(u64::try_from(n).unwrap_or(0))
}

/// Totals per group, with the share of all spend; the total last.
#[component]
pub fn Totals(
    rows: Vec<GroupTotals>,
    /// Groups past the rows shown.
    more: u64,
    total: GroupTotals,
    query: UsageQuery,
) -> impl IntoView {
    let by_model = query.group == GroupBy::Model;
    let header = move |label: &'static str, sort: UsageSort| {
        let sorted = (query.sort == sort).then_some(if query.descending {
            SortDir::Desc
        } else {
            SortDir::Asc
        });
        view! { <SortHeader label sorted href=query.sorted_by(sort).href() /> }
    };
    let empty = rows.is_empty();
    let rows_shown = rows.len() as u64;
    let row = move |r: &GroupTotals, all: &GroupTotals, is_total: bool| {
        let share = r.share_permille(all.spend);
        let refusals = if by_model && !is_total {
            "—".to_owned()
        } else {
            count(r.refusals)
        };
        view! {
            <tr class:row-total=is_total>
                <th scope="row">{r.label.clone()}</th>
                <td class="num">{r.spend.to_string()}</td>
                <td class="num">{count(r.requests)}</td>
                <td class="num">{count(r.tokens_in)}</td>
                <td class="num">{count(r.tokens_out)}</td>
                <td class="num">{refusals}</td>
                <td class="num">{format!("{}.{} %", share / 10, share % 10)}</td>
            </tr>
        }
    };
    view! {
        <section class="panel" aria-labelledby="totals-title">
            <h2 id="totals-title" class="panel-title">
                {format!("By {}", query.group.label().to_lowercase())}
            </h2>
            <div class="table-scroll">
                <table class="data-table usage-table">
                    <thead>
                        <tr>
                            {header(query.group.label(), UsageSort::Name)}
                            {header("Spend", UsageSort::Spend)}
                            {header("Requests", UsageSort::Requests)}
                            {header("Tokens in", UsageSort::TokensIn)}
                            {header("Tokens out", UsageSort::TokensOut)}
                            {header("Refused", UsageSort::Refusals)} <th scope="col">"Share"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.iter().map(|r| row(r, &total, false)).collect_view()}
                        {(!empty).then(|| row(&total, &total, true))}
                    </tbody>
                </table>
                {empty
                    .then(|| {
                        view! {
                            <p class="table-empty">
                                "No requests in this range yet. Usage appears here as keys call models."
                            </p>
                        }
                    })}
            </div>
            {(more > 0)
                .then(|| {
                    view! {
                        <p class="muted small">
                            {format!(
                                "The first {} in this order, and {} more: Export CSV has every one. The total counts them all.",
                                grouped(rows_shown),
                                grouped(more),
                            )}
                        </p>
                    }
                })}
            {by_model
                .then(|| {
                    view! {
                        <p class="muted small">
                            "Refusals come before a model is served, so they are counted in the total only."
                        </p>
                    }
                })}
        </section>
    }
}

/// Each limited team's month: its bar, and where it is heading.
#[component]
pub fn Forecasts(forecasts: Vec<Forecast>, members_view: bool) -> impl IntoView {
    let intro = if members_view {
        "Your team's monthly limit: this month so far, and where the current daily rate leads."
    } else {
        "Teams with a monthly limit, nearest their limit first: this month so far, and where the current daily rate leads."
    };
    view! {
        <section class="panel" aria-labelledby="forecast-title">
            <h2 id="forecast-title" class="panel-title">
                "Forecast"
            </h2>
            <p class="muted small">{intro}</p>
            {if forecasts.is_empty() {
                view! { <p class="muted">"No team with a monthly limit."</p> }.into_any()
            } else {
                view! {
                    <ul class="forecasts">
                        {forecasts
                            .into_iter()
                            .map(|f| {
                                let sentence = f.sentence();
                                view! {
                                    <li class="forecast">
                                        <span class="forecast-team">{f.team.clone()}</span>
                                        <BudgetBar spent=f.spent limit=f.limit />
                                        <span class="forecast-outlook">{sentence}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// Refusals with the reason the client was answered with, newest first.
#[component]
pub fn Blocked(blocked: Vec<BlockedRow>, now: DateTime<Utc>, members_view: bool) -> impl IntoView {
    let title = if members_view {
        "Why was I blocked"
    } else {
        "Why requests were refused"
    };
    let empty_text = if members_view {
        "None of your keys' requests were refused in this range."
    } else {
        "No request was refused in this range."
    };
    view! {
        <section class="panel" aria-labelledby="blocked-title">
            <h2 id="blocked-title" class="panel-title">
                {title}
            </h2>
            {if blocked.is_empty() {
                view! { <p class="muted">{empty_text}</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="data-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Last"</th>
                                    <th scope="col">"Key"</th>
                                    {(!members_view)
                                        .then(|| view! { <th scope="col">"Owner"</th> })}
                                    <th scope="col">"Refused by"</th>
                                    <th scope="col">"Reason given"</th>
                                    <th scope="col" class="num">
                                        "Times"
                                    </th>
                                </tr>
                            </thead>
                            <tbody>
                                {blocked
                                    .into_iter()
                                    .map(|b| {
                                        view! {
                                            <tr>
                                                <td>
                                                    <Ago at=Some(b.last_at) now />
                                                </td>
                                                <td>{b.key}</td>
                                                {(!members_view).then(|| view! { <td>{b.person}</td> })}
                                                <td>{b.cause}</td>
                                                <td class="cell-detail">{b.reason}</td>
                                                <td class="num">{count(b.count)}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

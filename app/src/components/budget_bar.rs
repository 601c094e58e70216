//! The budget bar of a team, a key or a member: green under 70 %, yellow from 70 %, red from 90 %
//! (and for a limit of 0); full above 100 % while the label shows the true share. And a member's
//! budget use: the bar against the budget that applies, or what they spent when none does.

use domain::budget::{BudgetBand, MemberBudget, percent_used};
use domain::money::Money;
use leptos::prelude::*;

#[component]
pub fn BudgetBar(spent: Money, limit: Money) -> impl IntoView {
    let band = BudgetBand::of(spent, limit);
    let percent = percent_used(spent, limit);
    let shown = percent.map_or(100.0, |p| p.clamp(0.0, 100.0));
    let label = match percent {
        // Truncated, so 69.99 % (green) never reads "70 %" (yellow's first value).
        Some(p) => format!("{:.1} %", (p * 10.0).floor() / 10.0),
        None => "limit $0".to_owned(),
    };
    let text = format!("{spent} of {limit}");
    view! {
        <div class="budget">
            <div
                class=format!("budget-track band-{}", band.css())
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=format!("{shown:.0}")
                aria-valuetext=format!("{text} ({label})")
                aria-label="Budget used"
            >
                <div class="budget-fill" style=format!("width: {shown:.1}%")></div>
            </div>
            <span class="budget-label">
                {text}<span class="muted">{format!(" · {label}")}</span>
            </span>
        </div>
    }
}

/// This month's spend against the budget that applies, and whose budget it is.
#[component]
pub fn MemberBudgetUse(budget: MemberBudget) -> impl IntoView {
    match budget.limit() {
        Some(limit) => {
            let whose = if budget.own.is_some() {
                "own budget"
            } else {
                "team default"
            };
            view! {
                <span class="member-budget">
                    <BudgetBar spent=budget.spent limit />
                    <span class="muted">{whose}</span>
                </span>
            }
            .into_any()
        }
        None => view! {
            <span class="member-budget muted">
                {format!("{} this month · no budget", budget.spent)}
            </span>
        }
        .into_any(),
    }
}

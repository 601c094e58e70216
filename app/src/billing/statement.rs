//! A month's statement: spend and requests per team and per model, each with the month's total
//! and its share — the chargeback an Owner exports as CSV. The month is chosen with a GET form,
//! so it works with JavaScript off and stays in the URL.

use domain::billing::{
    PAGE_PATH, STATEMENT_CSV_PATH, Statement, StatementLine, StatementMonth, month_label,
};
use domain::money::Money;
use domain::numbers::grouped;
use leptos::prelude::*;

#[component]
pub fn StatementSection(statement: Statement, months: Vec<StatementMonth>) -> impl IntoView {
    let chosen = statement.month;
    let csv = format!("{STATEMENT_CSV_PATH}?month={}", chosen.as_param());
    let title = if statement.current {
        format!("{} so far", month_label(chosen))
    } else {
        month_label(chosen)
    };
    let total = statement.total.clone();
    view! {
        <section class="panel" aria-labelledby="statement-title">
            <div class="panel-head">
                <h2 id="statement-title" class="panel-title">
                    "Statement · "
                    {title}
                </h2>
                <form method="get" action=PAGE_PATH class="inline-form">
                    <label class="inline-field">
                        "Month" <select name="month" class="input">
                            {months
                                .into_iter()
                                .map(|m| {
                                    view! {
                                        <option value=m.as_param() selected=m == chosen>
                                            {month_label(m)}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <button type="submit" class="btn btn-ghost">
                        "Show"
                    </button>
                    <a class="btn btn-ghost" href=csv download="">
                        "Export CSV"
                    </a>
                </form>
            </div>
            <div class="statement-tables">
                <Lines caption="By team" head="Team" lines=statement.teams total=total.clone() />
                <Lines caption="By model" head="Model" lines=statement.models total />
            </div>
        </section>
    }
}

/// One table of a statement, with its total last.
#[component]
fn Lines(
    caption: &'static str,
    head: &'static str,
    lines: Vec<StatementLine>,
    total: StatementLine,
) -> impl IntoView {
    let empty = lines.is_empty();
    let all = total.spend;
    let row = move |l: &StatementLine, is_total: bool| {
        let label = if l.departed {
            format!("{} (deleted)", l.label)
        } else {
            l.label.clone()
        };
        view! {
            <tr class:row-total=is_total>
                <th scope="row">{label}</th>
                <td class="num">{l.spend.to_string()}</td>
                <td class="num">{grouped(u64::try_from(l.requests).unwrap_or(0))}</td>
                <td class="num">{share(l.spend, all)}</td>
            </tr>
        }
    };
    view! {
        <div class="table-scroll">
            <table class="data-table">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">{head}</th>
                        <th scope="col" class="num">
                            "Spend"
                        </th>
                        <th scope="col" class="num">
                            "Requests"
                        </th>
                        <th scope="col" class="num">
                            "Share"
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {lines.iter().map(|l| row(l, false)).collect_view()}
                    {if empty {
                        view! {
                            <tr>
                                <td colspan="4" class="empty">
                                    "Nothing was spent this month."
                                </td>
                            </tr>
                        }
                            .into_any()
                    } else {
                        row(&total, true).into_any()
                    }}
                </tbody>
            </table>
        </div>
    }
}

/// `part` as a share of `all`, to a tenth of a percent.
fn share(part: Money, all: Money) -> String {
    if all.micros() <= 0 {
        return "—".to_owned();
    }
    let permille = i128::from(part.micros()) * 1000 / i128::from(all.micros());
    format!("{}.{} %", permille / 10, permille % 10)
}

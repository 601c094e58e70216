//! The Billing page: this month against the gateway-wide caps, the chosen month's statement
//! ([`super::statement`]), the settings form ([`super::settings`]) and the latest alerts.

use super::api::{RotateWebhookKey, SaveBilling, read_billing};
use super::settings::SettingsForm;
use super::statement::StatementSection;
use crate::components::{Ago, BudgetBar, Loaded, exact};
use domain::billing::{AlertRow, BillingView, CapNow};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BillingPage() -> impl IntoView {
    let query_map = use_query_map();
    let month = Memo::new(move |_| query_map.read().get("month"));
    let save = ServerAction::<SaveBilling>::new();
    let rotate = ServerAction::<RotateWebhookKey>::new();
    // Reloaded after every save: the cards and the form show what is stored now.
    let view = Resource::new(
        move || (month.get(), save.version().get(), rotate.version().get()),
        |(month, _, _)| read_billing(month),
    );
    view! {
        <Title text="Billing" />
        <div class="page-header">
            <div>
                <h1>"Billing"</h1>
                <p class="muted">
                    "Monthly statements, limits over the whole gateway, and who is told when a team nears its limit. Only Owners see this page."
                </p>
            </div>
        </div>
        <Loaded
            resource=view
            loading="Loading billing…"
            show=move |v| { view! { <Billing view=v save rotate /> }.into_any() }
        />
    }
}

#[component]
fn Billing(
    view: BillingView,
    save: ServerAction<SaveBilling>,
    rotate: ServerAction<RotateWebhookKey>,
) -> impl IntoView {
    let now = view.statement.month;
    view! {
        <dl class="cards">
            <Cap label="Gateway this month" cap=view.gateway />
            <Cap label="Keys outside any team" cap=view.teamless />
            <div class="card">
                <dt>"Alerts this month"</dt>
                <dd>
                    {view
                        .alerts
                        .iter()
                        .filter(|a| {
                            domain::billing::StatementMonth::of(a.crossed_at.date_naive()) == now
                        })
                        .count()
                        .to_string()}
                </dd>
            </div>
        </dl>
        <StatementSection statement=view.statement months=view.months />
        <SettingsForm
            settings=view.settings
            secret=view.webhook_secret
            mail_configured=view.mail_configured
            save
            rotate
        />
        <Alerts alerts=view.alerts />
    }
}

/// A gateway-wide cap: this month's spend against it, or the spend alone when none is set.
#[component]
fn Cap(label: &'static str, cap: CapNow) -> impl IntoView {
    view! {
        <div class="card card-wide">
            <dt>{label}</dt>
            <dd>
                {match cap.limit {
                    Some(limit) => view! { <BudgetBar spent=cap.spent limit /> }.into_any(),
                    None => {
                        view! {
                            {cap.spent.to_string()}
                            <span class="card-note">"no limit"</span>
                        }
                            .into_any()
                    }
                }}
            </dd>
        </div>
    }
}

/// The latest bands crossed and whether telling them worked.
#[component]
fn Alerts(alerts: Vec<AlertRow>) -> impl IntoView {
    let empty = alerts.is_empty();
    let now = chrono::Utc::now();
    view! {
        <section class="panel" aria-labelledby="alerts-title">
            <h2 id="alerts-title" class="panel-title">
                "Recent alerts"
            </h2>
            <p class="muted">
                "A team is told about once per band (70 %, 90 %, 100 % of its limit) and month."
            </p>
            {if empty {
                view! { <p class="empty">"No team has crossed a band yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="data-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Team"</th>
                                    <th scope="col">"Band"</th>
                                    <th scope="col">"Spent of limit"</th>
                                    <th scope="col">"Crossed"</th>
                                    <th scope="col">"Told"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {alerts
                                    .into_iter()
                                    .map(|a| {
                                        let told = match (a.sent_at, a.last_error.is_empty()) {
                                            (Some(at), true) => {
                                                view! {
                                                    <span class="status status-active" title=exact(at)>
                                                        "Sent"
                                                    </span>
                                                }
                                                    .into_any()
                                            }
                                            (_, false) => {
                                                view! {
                                                    <span class="status status-suspended">"Failed"</span>
                                                    <span class="cell-sub">{a.last_error.clone()}</span>
                                                }
                                                    .into_any()
                                            }
                                            (None, true) => {
                                                view! {
                                                    <span class="status status-invited">"Waiting"</span>
                                                }
                                                    .into_any()
                                            }
                                        };
                                        view! {
                                            <tr>
                                                <th scope="row">{a.team.clone()}</th>
                                                <td>{format!("{} %", a.band)}</td>
                                                <td class="num">{format!("{} of {}", a.spent, a.limit)}</td>
                                                <td title=exact(a.crossed_at)>
                                                    <Ago at=Some(a.crossed_at) now />
                                                </td>
                                                <td>{told}</td>
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

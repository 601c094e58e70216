//! The Billing page: this month against the gateway-wide caps, the chosen month's statement
//! ([`super::statement`]), the settings form ([`super::settings`]) and the latest alerts.

use super::api::{RotateWebhookKey, SaveBilling, read_billing};
use super::settings::SettingsForm;
use super::statement::StatementSection;
use crate::components::{Ago, BudgetBar, Loaded, PageHeader, exact, use_toasts};
use domain::billing::{AlertRow, BillingView, CapNow, Told};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn BillingPage() -> impl IntoView {
    let query_map = use_query_map();
    let month = Memo::new(move |_| query_map.read().get("month"));
    let save = ServerAction::<SaveBilling>::new();
    let rotate = ServerAction::<RotateWebhookKey>::new();
    // Here, not in the form: the form is rebuilt with every reload after a save.
    Effect::new(move |_| {
        if save.value().get().is_some_and(|r| r.is_ok())
            && let Some(toasts) = use_toasts()
        {
            toasts.success("Billing settings saved.");
        }
    });
    // Reloaded after every save: the cards and the form show what is stored now.
    let view = Resource::new(
        move || (month.get(), save.version().get(), rotate.version().get()),
        |(month, _, _)| read_billing(month),
    );
    view! {
        <PageHeader
            title="Billing"
            lead="Monthly statements, limits over the whole gateway, and who is told when a team nears its limit. Only Owners see this page."
        />
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
    view! {
        <dl class="cards">
            <Cap label="Gateway this month" cap=view.gateway />
            <Cap label="Keys outside any team" cap=view.teamless />
            <div class="card">
                <dt>"Alerts this month"</dt>
                <dd>{view.alerts_this_month.to_string()}</dd>
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
        <Alerts alerts=view.alerts now=view.generated_at />
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
                            <span class="card-note">"spent · no limit set"</span>
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
fn Alerts(alerts: Vec<AlertRow>, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let empty = alerts.is_empty();
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
                        <table class="data-table alerts-table">
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
                                        let told = told_view(a.told.clone());
                                        view! {
                                            <tr>
                                                <th scope="row">{a.team.clone()}</th>
                                                <td>{format!("{} %", a.band)}</td>
                                                <td class="num">{format!("{} of {}", a.spent, a.limit)}</td>
                                                <td>
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

/// Where telling an alert stands, as a badge (and why, when it failed).
fn told_view(told: Told) -> AnyView {
    let badge = |class: &'static str, text: &'static str| {
        view! { <span class=format!("status {class}")>{text}</span> }
    };
    match told {
        Told::Sent(at) => view! {
            <span class="status status-active" title=exact(at)>
                "Sent"
            </span>
        }
        .into_any(),
        Told::Waiting => badge("status-invited", "Waiting").into_any(),
        Told::Nobody => badge("status-invited", "Nobody to tell").into_any(),
        Told::Covered => badge("status-invited", "Covered by a higher band").into_any(),
        Told::Retrying(why) => view! {
            {badge("status-suspended", "Retrying")}
            <span class="cell-sub">{why}</span>
        }
        .into_any(),
        Told::GaveUp(why) => view! {
            {badge("status-suspended", "Gave up")}
            <span class="cell-sub">{why}</span>
        }
        .into_any(),
    }
}

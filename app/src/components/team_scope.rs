//! "Which teams": every team (and keys outside any team), or only those ticked — the choice
//! guardrails and routes share. Posts `team_scope` (`all` or `chosen`) and `teams[]` (ids).

use domain::guardrails::TeamChoice;
use leptos::prelude::*;

/// The teams fieldset; `picked` are ticked to start with, `all` says which radio is on.
#[component]
pub fn TeamScope(
    teams: Signal<Vec<TeamChoice>>,
    picked: Vec<i64>,
    all: RwSignal<bool>,
    error: Signal<Option<String>>,
    #[prop(default = "Teams")] legend: &'static str,
) -> impl IntoView {
    view! {
        <fieldset class="field check-list" class:field-invalid=move || error.get().is_some()>
            <legend>{legend}</legend>
            <ScopeChoice field="team_scope" every="Every team, and keys outside any team" all />
            <div class="check-indent" class:hidden=move || all.get()>
                {move || {
                    let teams = teams.get();
                    if teams.is_empty() {
                        return view! { <p class="muted">"There are no teams yet."</p> }.into_any();
                    }
                    teams
                        .into_iter()
                        .map(|team| {
                            let checked = picked.contains(&team.id);
                            view! {
                                <label class="check">
                                    <input
                                        type="checkbox"
                                        name="teams[]"
                                        value=team.id.to_string()
                                        checked=checked
                                    />
                                    {team.name}
                                </label>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </div>
            {move || error.get().map(|e| view! { <p class="field-error">{e}</p> })}
        </fieldset>
    }
}

/// Every one, or only those ticked below (which show only then).
#[component]
pub fn ScopeChoice(field: &'static str, every: &'static str, all: RwSignal<bool>) -> impl IntoView {
    view! {
        <label class="check">
            <input
                type="radio"
                name=field
                value="all"
                checked=all.get_untracked()
                on:change=move |_| all.set(true)
            />
            {every}
        </label>
        <label class="check">
            <input
                type="radio"
                name=field
                value="chosen"
                checked=!all.get_untracked()
                on:change=move |_| all.set(false)
            />
            "Only these:"
        </label>
    }
}

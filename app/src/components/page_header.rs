//! The top of a page: its title (also the tab's), a line on what it is for, and its main
//! action when the reader may take it.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PageHeader(
    title: &'static str,
    lead: &'static str,
    /// The main action (e.g. an Add button); none for readers who may not take it.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title />
        <div class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">{lead}</p>
            </div>
            {children.map(|action| action())}
        </div>
    }
}

/// A page's main button, opening its dialog; nothing for a reader who may not use it.
#[component]
pub fn OpenButton(label: &'static str, open: RwSignal<bool>, shown: bool) -> impl IntoView {
    shown.then(|| {
        view! {
            <button type="button" class="btn btn-primary" on:click=move |_| open.set(true)>
                {label}
            </button>
        }
    })
}

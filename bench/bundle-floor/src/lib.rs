//! The smallest app on Tollgate's stack that still does what every Tollgate page does: a list
//! read from a server function into a resource, re-read as a search box changes and after a
//! form's action, a toggled section, and (hydrated) a router and page title.
//!
//! Built as a hydrated app it measures what the framework costs any page before the page's own
//! code; built with `--features islands`, what it costs when only one island reaches the
//! browser and the rest is rendered by the server.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A listed row, as a page's server function returns it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// The rows matching `search` (no server is built; only the browser's call reaches the bundle).
#[server]
pub async fn list_rows(search: String) -> Result<Vec<Row>, ServerFnError> {
    let _ = search;
    Ok(vec![])
}

/// Adds a row named `name`.
#[server]
pub async fn add_row(name: String) -> Result<(), ServerFnError> {
    let _ = name;
    Ok(())
}

/// The interactive part: search as you type, a form action, a toggle, the list.
fn rows() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let add = ServerAction::<AddRow>::new();
    let rows = Resource::new(
        move || (search.get(), add.version().get()),
        |(search, _)| list_rows(search),
    );
    let open = RwSignal::new(false);
    view! {
        <input prop:value=search on:input=move |ev| search.set(event_target_value(&ev)) />
        <ActionForm action=add>
            <input name="name" />
            <button type="submit">"Add"</button>
        </ActionForm>
        <button on:click=move |_| open.update(|o| *o = !*o)>"Details"</button>
        <Show when=move || open.get()>
            <p>"Details"</p>
        </Show>
        <Suspense fallback=|| {
            "Loading"
        }>
            {move || {
                rows.get()
                    .map(|read| match read {
                        Ok(rows) => {
                            view! {
                                <ul>
                                    <For each=move || rows.clone() key=|row| row.id let:row>
                                        <li>{row.name}" "{row.email}</li>
                                    </For>
                                </ul>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p>{e.to_string()}</p> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[cfg(not(feature = "islands"))]
pub mod hydrated {
    use super::rows;
    use leptos::prelude::*;
    use leptos_meta::{Title, provide_meta_context};
    use leptos_router::components::{A, Route, Router, Routes};
    use leptos_router::path;

    #[component]
    fn Rows() -> impl IntoView {
        view! {
            <Title text="Rows" />
            {rows()}
        }
    }

    #[component]
    pub fn App() -> impl IntoView {
        provide_meta_context();
        view! {
            <Router>
                <nav>
                    <A href="/">"Rows"</A>
                    <A href="/other">"Other"</A>
                </nav>
                <Routes fallback=|| "Not found">
                    <Route path=path!("/") view=Rows />
                    <Route path=path!("/other") view=|| view! { <p>"Other"</p> } />
                </Routes>
            </Router>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        console_error_panic_hook::set_once();
        leptos::mount::hydrate_body(App);
    }
}

#[cfg(feature = "islands")]
pub mod islands {
    use super::rows;
    use leptos::prelude::*;

    #[island]
    fn Rows() -> impl IntoView {
        rows()
    }

    #[component]
    pub fn App() -> impl IntoView {
        view! {
            <main>
                <Rows />
            </main>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        console_error_panic_hook::set_once();
        leptos::mount::hydrate_islands();
    }
}

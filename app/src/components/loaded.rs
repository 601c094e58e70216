//! What a page shows while its data is on the way, when reading it failed, and once it is here:
//! the one `Transition` every page that reads through a server function puts its body in. The
//! page stays as it was while a new query loads (no flash of "Loading…"), and a failure is an
//! alert with the error's words.

use crate::error::AppError;
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

#[component]
pub fn Loaded<T, F>(
    resource: Resource<Result<T, AppError>>,
    /// Said until the first answer arrives ("Loading the audit log…").
    loading: &'static str,
    /// The page's body for an answer.
    show: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> AnyView + Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=move || {
            view! {
                <p class="muted" aria-busy="true">
                    {loading}
                </p>
            }
        }>
            {move || {
                let show = show.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(data) => show(data),
                        Err(e) => {
                            view! {
                                <div class="alert alert-error" role="alert">
                                    {e.to_string()}
                                </div>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

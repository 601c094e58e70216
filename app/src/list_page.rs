//! What the list pages (users, teams, keys, a team's members) do alike: read the list for the
//! current query, read it again whenever one of the server actions that change it finishes (the
//! actions' `version()`, as Leptos' examples reload a list), and say in a toast how each went.
//!
//! A reload rebuilds the rows, so what must outlive one (which rows are open, a dialog with its
//! form's error) lives with the page, outside the list.

use crate::components::use_toasts;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;

/// The server actions that change a list: it is read again whenever one of them finishes,
/// successfully or not.
#[derive(Clone, Default)]
pub struct ListChanges {
    versions: Vec<RwSignal<usize>>,
}

impl ListChanges {
    pub fn new() -> Self {
        Self::default()
    }

    /// `action` changes the list; its form or dialog shows how it went.
    pub fn by<S>(mut self, action: ServerAction<S>) -> Self
    where
        S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        self.versions.push(action.version());
        self
    }

    /// `action` changes the list, and a toast says how it went: `done`'s text, or the error.
    pub fn toasted<S>(
        self,
        action: ServerAction<S>,
        done: impl Fn(&S::Output) -> String + 'static,
    ) -> Self
    where
        S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        toast_outcome(action, done, true);
        self.by(action)
    }

    /// `action` changes the list, and a toast says `done`'s text when it succeeds (its form
    /// shows a refusal).
    pub fn toasted_on_success<S>(
        self,
        action: ServerAction<S>,
        done: impl Fn(&S::Output) -> String + 'static,
    ) -> Self
    where
        S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        toast_outcome(action, done, false);
        self.by(action)
    }

    /// How many times each action has finished (read reactively).
    fn versions(&self) -> Vec<usize> {
        self.versions.iter().map(|v| v.get()).collect()
    }
}

/// Toasts each finished call of `action`: `done`'s text on success, and (when `errors`) the error.
fn toast_outcome<S>(
    action: ServerAction<S>,
    done: impl Fn(&S::Output) -> String + 'static,
    errors: bool,
) where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        let Some(result) = action.value().get() else {
            return;
        };
        if let Some(toasts) = use_toasts() {
            match &result {
                Ok(output) => toasts.success(done(output)),
                Err(e) if errors => toasts.error(e.to_string()),
                Err(_) => {}
            }
        }
    });
}

/// A list page's list: `load(key())`, read again when `key` changes (the query in the URL) or
/// one of `changes` finishes. Read it under a `<Transition/>`, so the rows on screen stay while
/// it reloads.
pub fn use_list_page<K, T, Fut>(
    key: impl Fn() -> K + Send + Sync + 'static,
    changes: ListChanges,
    load: impl Fn(K) -> Fut + Send + Sync + 'static,
) -> Resource<Result<T, AppError>>
where
    K: PartialEq + Clone + Send + Sync + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    Resource::new(
        move || (key(), changes.versions()),
        move |(key, _)| load(key),
    )
}

//! A message about a whole form (not one field), announced to screen readers; a form's errors
//! and its success, from its server action's last answer.

use leptos::prelude::*;

/// An error banner above a form; renders nothing while `message` is `None`.
#[component]
pub fn FormAlert(message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! {
                <div class="alert alert-error" role="alert">
                    {m}
                </div>
            }
        })
    }
}

/// A form's errors from its server action's last answer: the message for each of its `fields`
/// goes next to that field; anything else (a refusal, a field the form lacks) goes above the form.
#[derive(Clone, Copy)]
pub struct FormErrors {
    error: Signal<Option<crate::error::AppError>>,
    fields: &'static [&'static str],
}

impl FormErrors {
    pub fn new<S>(action: ServerAction<S>, fields: &'static [&'static str]) -> Self
    where
        S: leptos::server_fn::ServerFn<Error = crate::error::AppError>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        let error = Signal::derive(move || action.value().get().and_then(Result::err));
        FormErrors { error, fields }
    }

    /// The message for `name`, shown next to that field.
    pub fn field(self, name: &'static str) -> Signal<Option<String>> {
        let error = self.error;
        Signal::derive(move || error.get().and_then(|e| e.field(name)))
    }

    /// The message for the form as a whole.
    pub fn form(self) -> Signal<Option<String>> {
        let (error, fields) = (self.error, self.fields);
        Signal::derive(move || {
            error
                .get()
                .filter(|e| fields.iter().all(|f| e.field(f).is_none()))
                .map(|e| e.to_string())
        })
    }
}

/// What `action` last answered when it succeeded, for a dialog that swaps its form for the
/// outcome. A view reading it redraws only when the action goes from no success to one (or back,
/// when cleared): a refusal leaves the form as it is, with what was typed and picked in it.
pub fn succeeded<S>(action: ServerAction<S>) -> Signal<Option<S::Output>>
where
    S: leptos::server_fn::ServerFn<Error = crate::error::AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let done = Memo::new(move |_| action.value().with(|v| matches!(v, Some(Ok(_)))));
    Signal::derive(move || {
        done.get()
            .then(|| action.value().get_untracked().and_then(Result::ok))
            .flatten()
    })
}

//! The search-and-filter form every list page has. Without JavaScript it is a plain GET form to
//! the page. With JavaScript it runs in place: the search box applies once typing pauses, a
//! select as soon as it changes, the Search button (or Enter) at once — each replacing the
//! URL's query (so a link or a reload keeps the filters) and going back to the first page.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use send_wrapper::SendWrapper;

/// How long typing must pause before the search runs.
pub const DEBOUNCE_MS: u32 = 250;

/// `action` is the page's path; `children` are the form's fields (a `type="search"` box named
/// `q`, selects, hidden inputs that keep the sort) and its submit button.
#[component]
pub fn FilterForm(action: &'static str, label: &'static str, children: Children) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    // The pending timer exists only in the browser. The storage itself is thread-safe: a
    // thread-local one (`new_local`) made during server rendering could be dropped on another
    // worker thread, which panics mid-response and cuts the page short.
    let pending = StoredValue::new(None::<SendWrapper<gloo_timers::callback::Timeout>>);
    let navigate = use_navigate();
    let apply = move || {
        pending.set_value(None);
        if let Some(form) = form.get_untracked() {
            let url = match query_of(&form) {
                query if query.is_empty() => action.to_owned(),
                query => format!("{action}?{query}"),
            };
            navigate(
                &url,
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    };
    let on_input = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            if is_search_box(&ev) {
                let apply = apply.clone();
                let timer = gloo_timers::callback::Timeout::new(DEBOUNCE_MS, apply);
                // Replacing the pending timer cancels it: only the last keystroke's search runs.
                pending.set_value(Some(SendWrapper::new(timer)));
            }
        }
    };
    let on_change = {
        let apply = apply.clone();
        move |ev: leptos::ev::Event| {
            if !is_search_box(&ev) {
                apply();
            }
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        apply();
    };
    view! {
        <form
            class="filters"
            method="get"
            action=action
            role="search"
            aria-label=label
            node_ref=form
            on:input=on_input
            on:change=on_change
            on:submit=on_submit
        >
            {children()}
        </form>
    }
}

/// Whether the event came from the form's search box (which waits for typing to pause).
fn is_search_box(ev: &leptos::ev::Event) -> bool {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|input| input.type_() == "search")
}

/// The form's fields as a URL query, leaving out empty ones (as the page reads them: absent).
fn query_of(form: &web_sys::HtmlFormElement) -> String {
    let mut pairs = Vec::new();
    let elements = form.elements();
    for i in 0..elements.length() {
        use wasm_bindgen::JsCast;
        let Some(element) = elements.item(i) else {
            continue;
        };
        let (name, value) = if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
            (input.name(), input.value())
        } else if let Some(select) = element.dyn_ref::<web_sys::HtmlSelectElement>() {
            (select.name(), select.value())
        } else {
            continue;
        };
        if !name.is_empty() && !value.is_empty() {
            pairs.push(format!(
                "{}={}",
                String::from(web_sys::js_sys::encode_uri_component(&name)),
                String::from(web_sys::js_sys::encode_uri_component(&value))
            ));
        }
    }
    pairs.join("&")
}

//! Search and the Role filter: a plain GET form (works with JavaScript off); with JavaScript,
//! typing updates the URL after a short pause and the role applies at once.

use domain::Role;
use domain::users::UserQuery;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use send_wrapper::SendWrapper;

/// How long typing must pause before the search runs.
const DEBOUNCE_MS: u32 = 250;

#[component]
pub fn Filters(query: Memo<UserQuery>) -> impl IntoView {
    let current = query.get_untracked();
    let navigate = use_navigate();
    let go = move |q: UserQuery| {
        let qs = q.to_query_string();
        let url = if qs.is_empty() {
            "/dashboard/configuration/users".to_owned()
        } else {
            format!("?{qs}")
        };
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    // The pending timer exists only in the browser. The storage itself is thread-safe: a
    // thread-local one (`new_local`) made during server rendering could be dropped on another
    // worker thread, which panics mid-response and cuts the page short.
    let pending = StoredValue::new(None::<SendWrapper<gloo_timers::callback::Timeout>>);
    let on_search = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            let go = go.clone();
            let timer = gloo_timers::callback::Timeout::new(DEBOUNCE_MS, move || {
                go(UserQuery {
                    search: text,
                    page: 1,
                    ..query.get_untracked()
                });
            });
            // Replacing the pending timer cancels it: only the last keystroke's search runs.
            pending.set_value(Some(SendWrapper::new(timer)));
        }
    };
    let on_role = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let role = event_target_value(&ev).parse().ok();
            go(UserQuery {
                role,
                page: 1,
                ..query.get_untracked()
            });
        }
    };
    let search_box = NodeRef::<leptos::html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        pending.set_value(None);
        let search = search_box.get().map(|el| el.value()).unwrap_or_default();
        go(UserQuery {
            search,
            page: 1,
            ..query.get_untracked()
        });
    };
    view! {
        <form
            class="filters"
            method="get"
            action="/dashboard/configuration/users"
            role="search"
            on:submit=on_submit
        >
            <input
                type="search"
                name="q"
                class="input"
                value=current.search.clone()
                node_ref=search_box
                placeholder="Search by name or email"
                aria-label="Search users"
                on:input=on_search
            />
            <select name="role" class="input" aria-label="Role" on:change=on_role>
                <option value="" selected=current.role.is_none()>
                    "All Roles"
                </option>
                {Role::ALL
                    .into_iter()
                    .map(|r| {
                        view! {
                            <option value=r.as_str() selected=current.role == Some(r)>
                                {r.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <input type="hidden" name="sort" value=current.sort.as_str() />
            <input type="hidden" name="dir" value=current.dir.as_str() />
            <button type="submit" class="btn btn-ghost">
                "Search"
            </button>
        </form>
    }
}

//! Search and the Role filter, in the list pages' [`FilterForm`]: a plain GET form with
//! JavaScript off; with it, typing applies after a short pause and the role at once.

use crate::components::FilterForm;
use domain::Role;
use domain::users::UserQuery;
use leptos::prelude::*;

#[component]
pub fn Filters(query: Memo<UserQuery>) -> impl IntoView {
    let current = query.get_untracked();
    view! {
        <FilterForm action="/dashboard/configuration/users" label="Filter users">
            <input
                type="search"
                maxlength=domain::list_query::SEARCH_MAX
                name="q"
                class="input"
                value=current.search.clone()
                placeholder="Search by name or email"
                aria-label="Search users"
            />
            <select name="role" class="input" aria-label="Role">
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
        </FilterForm>
    }
}

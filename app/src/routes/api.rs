//! Server functions for the Routes page. Bodies are thin: who is asking (`request::signed_in`)
//! → `domain` service. A form's fields are the functions' arguments (as `ActionForm` posts
//! them); a route's targets come as lists, one entry per target in the order tried.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use domain::routes::RoutesView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use {
    crate::request,
    domain::routes::{RouteInput, TargetInput},
    domain::service::routes,
};

/// The Routes page.
#[server(endpoint = "list_routes")]
pub async fn list_routes() -> Result<RoutesView, AppError> {
    request::signed_in(async |ctx, me| routes::view(&ctx.db, &me.actor()).await).await
}

/// Adds a route. `name` is the model name clients ask for; each `target_*` list has one entry
/// per target, in the order tried (`target_provider` holds provider ids, prices are dollars per
/// million tokens, a blank upstream name is the route's name); `team_scope` is `all` or
/// `chosen` (then `teams` holds team ids; blank: `chosen` when some are named).
#[server(endpoint = "add_route")]
pub async fn add_route(
    name: String,
    #[server(default)] target_provider: Vec<String>,
    #[server(default)] target_upstream_name: Vec<String>,
    #[server(default)] target_input_price: Vec<String>,
    #[server(default)] target_output_price: Vec<String>,
    #[server(default)] target_max_output_tokens: Vec<String>,
    #[server(default)] target_image_input_tokens: Vec<String>,
    #[server(default)] team_scope: String,
    #[server(default)] teams: Vec<String>,
) -> Result<i64, AppError> {
    let input = RouteForm {
        name,
        target_provider,
        target_upstream_name,
        target_input_price,
        target_output_price,
        target_max_output_tokens,
        target_image_input_tokens,
        team_scope,
        teams,
    }
    .input();
    request::signed_in(async |ctx, me| routes::add(&ctx.db, &me.actor(), &input).await).await
}

/// Changes a route made on the page; new prices apply from the next request.
#[server(endpoint = "edit_route")]
pub async fn edit_route(
    id: i64,
    name: String,
    #[server(default)] target_provider: Vec<String>,
    #[server(default)] target_upstream_name: Vec<String>,
    #[server(default)] target_input_price: Vec<String>,
    #[server(default)] target_output_price: Vec<String>,
    #[server(default)] target_max_output_tokens: Vec<String>,
    #[server(default)] target_image_input_tokens: Vec<String>,
    #[server(default)] team_scope: String,
    #[server(default)] teams: Vec<String>,
) -> Result<(), AppError> {
    let input = RouteForm {
        name,
        target_provider,
        target_upstream_name,
        target_input_price,
        target_output_price,
        target_max_output_tokens,
        target_image_input_tokens,
        team_scope,
        teams,
    }
    .input();
    request::signed_in(async |ctx, me| routes::edit(&ctx.db, &me.actor(), id, &input).await).await
}

/// Enables or disables a route.
#[server(endpoint = "set_route_enabled")]
pub async fn set_route_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| routes::set_enabled(&ctx.db, &me.actor(), id, enabled).await)
        .await
}

/// Deletes a route; its usage stays under its name.
#[server(endpoint = "delete_route")]
pub async fn delete_route(id: i64) -> Result<(), AppError> {
    request::signed_in(async |ctx, me| routes::delete(&ctx.db, &me.actor(), id).await).await
}

/// The Add and Edit forms' fields as posted: one list per target field.
#[cfg(feature = "ssr")]
struct RouteForm {
    name: String,
    target_provider: Vec<String>,
    target_upstream_name: Vec<String>,
    target_input_price: Vec<String>,
    target_output_price: Vec<String>,
    target_max_output_tokens: Vec<String>,
    target_image_input_tokens: Vec<String>,
    team_scope: String,
    teams: Vec<String>,
}

#[cfg(feature = "ssr")]
impl RouteForm {
    /// The lists zipped into targets (a list shorter than the others reads as blanks).
    fn input(self) -> RouteInput {
        let count = [
            self.target_provider.len(),
            self.target_upstream_name.len(),
            self.target_input_price.len(),
            self.target_output_price.len(),
            self.target_max_output_tokens.len(),
            self.target_image_input_tokens.len(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
        // Far more than a route may have: enough to be refused with the rule's words, not to
        // build thousands of targets.
        .min(domain::routes::MAX_TARGETS + 1);
        let at = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
        RouteInput {
            name: self.name,
            targets: (0..count)
                .map(|i| TargetInput {
                    provider: at(&self.target_provider, i),
                    upstream_name: at(&self.target_upstream_name, i),
                    input_price: at(&self.target_input_price, i),
                    output_price: at(&self.target_output_price, i),
                    max_output_tokens: at(&self.target_max_output_tokens, i),
                    image_input_tokens: at(&self.target_image_input_tokens, i),
                })
                .collect(),
            team_scope: self.team_scope,
            teams: self.teams,
        }
    }
}

//! The Users page's shared shapes: the list query (which lives in the URL) and the rows, cards
//! and details the server sends back.

mod query;
mod views;

pub use query::{SEARCH_COUNT_CAP, UserQuery, UserSort};
pub use views::{UserDetail, UserPage, UserRow, UserSummary};

/// What an Owner types to delete the gateway's access list.
pub const RESET_CONFIRMATION: &str = "delete access list";

//! The Users page (`/dashboard/configuration/users`) and invite acceptance (`/invite/{token}`).

mod accept;
pub mod api;
mod danger;
mod filters;
mod invite;
mod page;
mod row;

pub use accept::AcceptInvitePage;
pub use page::UsersPage;

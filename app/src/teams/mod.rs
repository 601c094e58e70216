//! The Teams page (`/dashboard/configuration/teams`): the list with this month's spend and
//! requests and budget bars, the cards, and creating, editing and deleting teams.

pub mod api;
mod form;
mod member_budget;
mod members;
mod page;

pub use page::TeamsPage;

//! Single sign-on: the Owners' settings page, and what the sign-in page offers.

pub mod api;
mod page;

pub use page::SsoPage;

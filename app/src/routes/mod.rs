//! Configuration → Routes: the model names clients ask for, each mapped to provider targets
//! tried in order — listed for everyone with this month's requests and spend, added, edited,
//! disabled and deleted by Owners and Admins.

pub mod api;
mod form;
mod page;

pub use page::RoutesPage;

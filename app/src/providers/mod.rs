//! Configuration → Providers: the upstreams the gateway forwards to — listed for everyone
//! (never a key), added, edited, tested, disabled and deleted by Owners and Admins.

pub mod api;
mod form;
mod page;

pub use page::ProvidersPage;

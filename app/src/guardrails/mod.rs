//! Configuration → Guardrails: rules checked before a request is forwarded — listed for
//! everyone with this month's counts, added, edited, disabled and deleted by Owners and Admins.

pub mod api;
mod form;
mod page;

pub use page::GuardrailsPage;

//! Configuration → Billing (`/dashboard/configuration/billing`), Owners only: a month's
//! statement with its CSV, the gateway-wide limits, and who is alerted when a team crosses a
//! band of its limit.

pub mod api;
mod page;
mod settings;
mod statement;

pub use page::BillingPage;

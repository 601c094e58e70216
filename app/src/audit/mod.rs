//! The audit log page (`/dashboard/configuration/audit`), for Owners and Admins: every change,
//! newest first, filtered by words, kind and days; the filters live in the URL.

pub mod api;
mod page;

pub use page::AuditPage;

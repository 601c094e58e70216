//! The audit log page (`/dashboard/configuration/audit`), for Owners and Admins: every change,
//! newest first, filtered by words, kind, days or one thing's history; the filters live in the
//! URL. Other pages link to a thing's history with [`HistoryLink`].

pub mod api;
mod history_link;
mod page;

pub use history_link::HistoryLink;
pub use page::AuditPage;

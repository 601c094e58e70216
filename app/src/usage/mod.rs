//! The Usage page (`/dashboard`, the home page after sign-in): spend, requests and refusals per
//! day as charts drawn on the server ([`chart`]), totals per team, person, key or model with a
//! CSV export, each limited team's forecast, and why requests were refused. The range and the
//! grouping live in the URL, so it all works with JavaScript off.

pub mod api;
mod chart;
mod page;
mod sections;

pub use page::UsagePage;

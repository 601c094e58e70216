//! sea-orm entities, one per table. They stay inside `domain`: services map them to DTOs.
//!
//! Usage aggregates and the audit log carry ids without foreign keys on purpose: history stays
//! when the user, team or key it speaks of is deleted.

pub mod api_key;
pub mod audit_entry;
pub mod budget_alert;
pub mod budget_lease;
pub mod departed_name;
pub mod gateway_setting;
pub mod guardrail;
pub mod guardrail_hit;
pub mod guardrail_team;
pub mod invite;
pub mod ledger_mark;
pub mod provider;
pub mod refusal_day;
pub mod route;
pub mod route_target;
pub mod route_team;
pub mod session;
pub mod setup_token;
pub mod sign_in_failure;
pub mod sso_setting;
pub mod team;
pub mod usage_day;
pub mod usage_day_total;
pub mod usage_gateway_month;
pub mod usage_key_month;
pub mod usage_model_day;
pub mod usage_team_month;
pub mod usage_user_month;
pub mod usage_window;
pub mod usage_window_end;
pub mod user;

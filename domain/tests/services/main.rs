//! Integration tests of the domain services, each run on a real SQLite file and on PostgreSQL
//! (when `TOLLGATE_TEST_POSTGRES_URL` names a server; `scripts/test.sh` starts one and sets
//! `TOLLGATE_REQUIRE_POSTGRES=1` so a missing server fails instead of skipping).

mod access_epoch;
mod audit;
mod billing;
mod budgets;
mod guardrails;
mod invites;
mod key_limits;
mod keys;
mod ledger;
mod lists;
mod providers;
mod races;
mod reset;
mod routes;
mod schema;
mod seed;
mod sessions;
mod setup;
mod sign_in;
mod sso;
mod support;
mod teams;
mod usage;
mod usage_report;
mod usage_windows;
mod users;
mod users_list;

//! Schema migrations, the same on SQLite and PostgreSQL. They run at start-up and through
//! `tollgate migrate`.

use sea_orm_migration::prelude::*;

mod m20261126_000001_access;
mod m20261126_000002_users_list_speed;
mod m20261126_000003_teams_list_speed;
mod m20261127_000004_gateway_leases;
mod m20261127_000005_list_sort_speed;
mod m20261127_000006_user_sort_keys;
mod m20261130_000007_access_epoch_roles;
mod m20261130_000008_access_epoch_notify;
mod m20261130_000009_rate_limits;
mod m20261130_000010_budgets;
mod m20261130_000011_audit_search;
mod m20261130_000012_audit_target;
mod m20261130_000013_usage_days;
mod m20261130_000014_usage_rollups;
mod m20261201_000015_billing;
mod m20261201_000016_audit_filters;
mod m20261201_000017_usage_windows;
mod m20261201_000018_providers;
mod m20261201_000019_guardrails;
mod m20261202_000020_routes;
mod m20261202_000021_sso;
mod sql;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_access::Migration),
            Box::new(m20261126_000002_users_list_speed::Migration),
            Box::new(m20261126_000003_teams_list_speed::Migration),
            Box::new(m20261127_000004_gateway_leases::Migration),
            Box::new(m20261127_000005_list_sort_speed::Migration),
            Box::new(m20261127_000006_user_sort_keys::Migration),
            Box::new(m20261130_000007_access_epoch_roles::Migration),
            Box::new(m20261130_000008_access_epoch_notify::Migration),
            Box::new(m20261130_000009_rate_limits::Migration),
            Box::new(m20261130_000010_budgets::Migration),
            Box::new(m20261130_000011_audit_search::Migration),
            Box::new(m20261130_000012_audit_target::Migration),
            Box::new(m20261130_000013_usage_days::Migration),
            Box::new(m20261130_000014_usage_rollups::Migration),
            Box::new(m20261201_000015_billing::Migration),
            Box::new(m20261201_000016_audit_filters::Migration),
            Box::new(m20261201_000017_usage_windows::Migration),
            Box::new(m20261201_000018_providers::Migration),
            Box::new(m20261201_000019_guardrails::Migration),
            Box::new(m20261202_000020_routes::Migration),
            Box::new(m20261202_000021_sso::Migration),
        ]
    }
}

//! Tollgate's access model.
//!
//! Without features this crate is pure and compiles to WebAssembly: roles, statuses, the one
//! permission function, validation, money, budget bands and the DTOs that cross the wire. The
//! `ssr` feature adds the database: sea-orm entities, migrations and the services that are the
//! only code allowed to read or write it.

pub mod audit;
pub mod billing;
pub mod budget;
pub mod csv;
pub mod dto;
pub mod error;
pub mod guardrails;
pub mod ids;
pub mod keys;
pub mod list_query;
pub mod money;
pub mod net;
pub mod numbers;
pub mod permission;
pub mod pricing;
pub mod providers;
pub mod rate_limits;
pub mod role;
pub mod routes;
pub mod sso;
pub mod status;
pub mod teams;
pub mod usage;
pub mod users;
pub mod validation;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod entity;
#[cfg(feature = "ssr")]
pub mod migration;
#[cfg(feature = "ssr")]
pub mod sealing;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod service;

pub use error::{Error, Result};
pub use ids::{KeyId, TeamId, UserId};
pub use permission::{Action, Actor, Denied, Subject};
pub use role::Role;
pub use status::Status;

//! The Tollgate server: configuration, command line, router, security layers and start-up.
//! `main.rs` only parses the command line and calls into here, so tests — and the benchmarks,
//! a binary of their own (`src/bin/tollgate-bench/`) — can build the same router the binary
//! serves.
// The dashboard's view types nest deeply; the router that serves them needs the headroom.
#![recursion_limit = "512"]

pub mod alerts;
pub mod cli;
pub mod config;
pub mod export;
pub mod export_config;
pub mod gateway;
pub mod health;
pub mod listen;
pub mod logging;
pub mod mail;
pub mod providers_file;
pub mod router;
pub mod security;
pub mod serve;
pub mod site;
pub mod sso;
pub mod startup_error;

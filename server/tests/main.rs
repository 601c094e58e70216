//! The server's tests, linked as one binary: the router over HTTP in-process (sessions, roles,
//! security headers, invites by mail, single sign-on against a stub OpenID provider), the `/v1`
//! gateway against the stub upstream on loopback, a real OpenAI client, clients that send slowly, and `tollgate serve` as
//! real processes. They share `support/` and the benchmark binary's stub upstream and fixture,
//! included by path so the served binary and the library hold neither.
//!
//! Tests run in parallel threads of this one process: each makes its own database file, ports
//! and temporary files, and none sets an environment variable (the child processes get theirs
//! through `Command::env`).

mod billing_http;
mod gateway;
mod gateway_budgets;
mod gateway_client;
mod gateway_fallback;
mod gateway_limits;
mod gateway_processes;
mod guardrails_http;
mod http;
mod invite_mail;
mod keys_http;
mod limits_audit_http;
mod providers_http;
mod routes_http;
mod site;
mod slow_clients;
mod sso_http;
mod support;
mod teams_http;
mod usage_http;
mod users_http;

#[path = "../src/bin/tollgate-bench/fixture.rs"]
mod fixture;
#[path = "../src/bin/tollgate-bench/stub_upstream.rs"]
#[allow(dead_code)] // Shared with the benchmark, which needs parts the tests do not.
mod stub_upstream;

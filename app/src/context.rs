//! What the server hands to every server function and page render (server side only).

use domain::db::DatabaseConnection;
use domain::service::session::SessionPolicy;

/// Shared state for server functions, provided by the `server` crate on every request.
#[derive(Clone, Debug)]
pub struct ServerContext {
    pub db: DatabaseConnection,
    pub sessions: SessionPolicy,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// The URL people reach this server at, without a trailing slash; links (invites) start with it.
    pub public_url: String,
}

/// The client's network address, put on each request by the server (for sign-in throttling and
/// the audit log).
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

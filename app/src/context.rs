//! What the server hands to every server function and page render (server side only).

use domain::Role;
use domain::db::DatabaseConnection;
use domain::service::session::SessionPolicy;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Shared state for server functions, provided by the `server` crate on every request.
#[derive(Clone, Debug)]
pub struct ServerContext {
    pub db: DatabaseConnection,
    pub sessions: SessionPolicy,
    /// The public URL is https: cookies are `Secure` and the session cookie takes the `__Host-`
    /// prefix; responses carry HSTS.
    pub secure_cookies: bool,
    /// The URL people reach this server at, without a trailing slash; links (invites) start with it.
    pub public_url: String,
    /// Sends invites by email; `None` when no mail server is configured (the inviter then gets
    /// the link to pass on).
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Proxies whose `X-Forwarded-For` names the client (`TOLLGATE_TRUSTED_PROXIES`); the
    /// server's client-address layer reads it.
    pub trusted_proxies: domain::net::Ranges,
    /// Seals and opens upstream keys (`TOLLGATE_SECRET_KEY`).
    pub sealer: Arc<domain::sealing::Sealer>,
    /// Tests a provider's connection for the Providers page.
    pub prober: Arc<dyn Prober>,
    /// Tells people of budget alerts (email, webhook); the Billing page's test-send uses it.
    pub notifier: Option<Arc<dyn Notifier>>,
    /// Runs discovery for the single sign-on page's Test button.
    pub sso_tester: Arc<dyn SsoTester>,
}

/// Fetches an issuer's OpenID Connect discovery. The `server` crate implements it over HTTPS.
pub trait SsoTester: Send + Sync + std::fmt::Debug {
    /// What `issuer` publishes, or why it could not be read.
    fn test<'a>(
        &'a self,
        issuer: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<domain::sso::Discovery, String>> + Send + 'a>>;
}

/// Sends budget alerts. The `server` crate implements it over SMTP and HTTPS.
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Sends a sample alert, marked as a test, to `emails` and `webhook`.
    fn test_send<'a>(
        &'a self,
        emails: &'a [String],
        webhook: Option<&'a domain::service::alerts::Webhook>,
    ) -> Pin<Box<dyn Future<Output = domain::billing::TestSent> + Send + 'a>>;
}

/// Calls a provider's `GET /models` with its key. The `server` crate implements it over HTTPS.
pub trait Prober: Send + Sync + std::fmt::Debug {
    fn probe<'a>(
        &'a self,
        upstream: &'a domain::service::providers::Upstream,
    ) -> Pin<Box<dyn Future<Output = domain::providers::Probe> + Send + 'a>>;
}

/// An invite email's facts; the mailer words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteMail {
    pub to: String,
    /// Who invited: their name, or their email.
    pub inviter: String,
    pub role: Role,
    /// The gateway's public URL, which the mail names.
    pub gateway: String,
    pub link: String,
}

/// The outcome of a send the mailer reports: a reason for the inviter when it failed.
pub type SendResult = Result<(), String>;

/// Sends mail for the server functions. The `server` crate implements it over SMTP.
pub trait Mailer: Send + Sync + std::fmt::Debug {
    fn send_invite<'a>(
        &'a self,
        mail: &'a InviteMail,
    ) -> Pin<Box<dyn Future<Output = SendResult> + Send + 'a>>;
}

/// The client's network address, put on each request by the server (for sign-in throttling and
/// the audit log): the connection's peer, or what a trusted proxy says the client was.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

//! Settings, each from an environment variable or the matching flag.

use clap::Args;
use std::net::SocketAddr;

/// How this server runs. Every field is documented in the README's configuration table.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database: `sqlite://PATH?mode=rwc` (embedded, the default) or `postgres://USER:PASS@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/tollgate.db?mode=rwc"
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Directory holding the built site (`pkg/` with the WebAssembly, JavaScript and CSS).
    #[arg(long, env = "TOLLGATE_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// The URL people reach this server at; used in links (setup, invites), to keep the page
    /// after sign-in on this site, and — when it is https — to mark cookies Secure, give the
    /// session cookie the `__Host-` prefix and send HSTS. Defaults to http://LISTEN.
    #[arg(long, env = "TOLLGATE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "TOLLGATE_SESSION_IDLE_MINUTES", default_value_t = 480)]
    pub session_idle_minutes: i64,

    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "TOLLGATE_SESSION_MAX_HOURS", default_value_t = 168)]
    pub session_max_hours: i64,

    /// Mail server for invite emails: `smtp://HOST:PORT` (plain), `smtp://HOST:587?tls=required`
    /// (STARTTLS) or `smtps://USER:PASS@HOST:465` (TLS). Unset: invite links are shown to copy.
    #[arg(long, env = "TOLLGATE_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// The From of invite emails, e.g. `Tollgate <tollgate@example.com>`. Defaults to
    /// `Tollgate <tollgate@HOST>` with the public URL's host.
    #[arg(long, env = "TOLLGATE_SMTP_FROM")]
    pub smtp_from: Option<String>,

    /// The providers file (TOML): upstream providers and the models the `/v1` gateway offers,
    /// with prices. Unset: the gateway offers no models.
    #[arg(long, env = "TOLLGATE_PROVIDERS")]
    pub providers: Option<String>,

    /// The largest `/v1` request body read, in bytes (413 past it).
    #[arg(long, env = "TOLLGATE_MAX_REQUEST_BYTES", default_value_t = crate::gateway::MAX_BODY)]
    pub max_request_bytes: usize,

    /// Reverse proxies in front of this server, as comma-separated address ranges (e.g.
    /// `10.0.0.0/8,fd00::/8`): when the connection comes from one of them, the client is the
    /// right-most `X-Forwarded-For` entry that is not one of them. Empty (the default): the
    /// connection's own address is the client, and `X-Forwarded-For` is ignored.
    #[arg(long, env = "TOLLGATE_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: domain::net::Ranges,
}

impl Config {
    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The origin (scheme://host[:port]) browsers send for this server, from the public URL.
    pub fn public_origin(&self) -> Option<String> {
        let url = url::Url::parse(&self.public_url()).ok()?;
        Some(url.origin().ascii_serialization())
    }

    /// The From address of invite emails.
    pub fn smtp_from(&self) -> String {
        self.smtp_from.clone().unwrap_or_else(|| {
            let host = url::Url::parse(&self.public_url())
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "localhost".to_owned());
            format!("Tollgate <tollgate@{host}>")
        })
    }

    pub fn session_policy(&self) -> domain::service::session::SessionPolicy {
        domain::service::session::SessionPolicy {
            idle: chrono::Duration::minutes(self.session_idle_minutes.max(1)),
            absolute: chrono::Duration::hours(self.session_max_hours.max(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        config: Config,
    }

    #[test]
    fn trusted_proxies_are_ranges_and_none_by_default() {
        let none = Flags::try_parse_from(["tollgate"]).unwrap().config;
        assert!(none.trusted_proxies.is_empty());
        let some = Flags::try_parse_from(["tollgate", "--trusted-proxies", "10.0.0.0/8, fd00::/8"])
            .unwrap()
            .config;
        assert!(some.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(some.trusted_proxies.contains("fd00::1".parse().unwrap()));
        assert!(!some.trusted_proxies.contains("192.0.2.1".parse().unwrap()));
        assert!(Flags::try_parse_from(["tollgate", "--trusted-proxies", "proxy.local"]).is_err());
    }
}

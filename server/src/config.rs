//! Settings, each from an environment variable or the matching flag; the Leptos runtime options
//! (output name, site layout, address, environment) come from `Leptos.toml`, which the listen
//! address and site root override.

use clap::Args;
use leptos::config::{ConfFile, LeptosOptions};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// `Leptos.toml` at the workspace root, embedded so the binary reads the same options from any
/// working directory.
const LEPTOS_TOML: &str = include_str!("../../Leptos.toml");

/// The Leptos runtime options of `Leptos.toml`, before [`Config`] overrides the address and the
/// site root.
///
/// # Panics
/// When the embedded file is not valid (`config::tests` check it).
pub fn leptos_toml() -> &'static LeptosOptions {
    static OPTIONS: OnceLock<LeptosOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        parse_leptos_toml(LEPTOS_TOML).unwrap_or_else(|e| panic!("Leptos.toml: {e}"))
    })
}

fn parse_leptos_toml(text: &str) -> Result<LeptosOptions, toml::de::Error> {
    toml::from_str::<ConfFile>(text).map(|file| file.leptos_options)
}

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

    /// Address and port to listen on (default: `site-addr` in Leptos.toml).
    #[arg(long, env = "TOLLGATE_LISTEN", default_value_t = leptos_toml().site_addr)]
    pub listen: SocketAddr,

    /// Directory holding the built site (`pkg/` with the WebAssembly, JavaScript and CSS)
    /// (default: `site-root` in Leptos.toml).
    #[arg(
        long,
        env = "TOLLGATE_SITE_ROOT",
        default_value_t = leptos_toml().site_root.to_string()
    )]
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

    /// Seconds a client has to send a request's headers (an idle keep-alive connection is
    /// closed after as long), and again to send its body (408 past it).
    #[arg(long, env = "TOLLGATE_READ_TIMEOUT_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub read_timeout_seconds: u64,

    /// Reverse proxies in front of this server, as comma-separated address ranges (e.g.
    /// `10.0.0.0/8,fd00::/8`): when the connection comes from one of them, the client is the
    /// right-most `X-Forwarded-For` entry that is not one of them. Empty (the default): the
    /// connection's own address is the client, and `X-Forwarded-For` is ignored.
    #[arg(long, env = "TOLLGATE_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: domain::net::Ranges,

    /// The data key that seals upstream keys in the database: 32 bytes as 64 hex digits or
    /// base64 (`openssl rand -hex 32`). Unset with SQLite: made once in a file beside the
    /// database (`DB_FILE.key`, mode 0600). Required with PostgreSQL.
    #[arg(long, env = "TOLLGATE_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// The data key used before the one in `TOLLGATE_SECRET_KEY`, while rotating: keys sealed
    /// under it still open, and are sealed again under the new one at start.
    #[arg(long, env = "TOLLGATE_SECRET_KEY_PREVIOUS", hide_env_values = true)]
    pub secret_key_previous: Option<String>,

    /// Single sign-on as configuration (`TOLLGATE_SSO_*`).
    #[command(flatten)]
    pub sso: crate::sso::env::SsoEnv,
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

    /// The Leptos options this server runs with: `Leptos.toml`'s, with this listen address and
    /// site root.
    pub fn leptos_options(&self) -> LeptosOptions {
        let mut options = leptos_toml().clone();
        options.site_addr = self.listen;
        options.site_root = self.site_root.as_str().into();
        options
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
    use leptos::config::Env;

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

    #[test]
    fn leptos_toml_keeps_the_defaults() {
        let file = leptos_toml();
        assert_eq!(&*file.output_name, "tollgate");
        assert_eq!(&*file.site_pkg_dir, "pkg");
        assert_eq!(file.env, Env::PROD);
        let config = Flags::try_parse_from(["tollgate"]).unwrap().config;
        if std::env::var_os("TOLLGATE_LISTEN").is_none() {
            assert_eq!(config.listen, "127.0.0.1:3000".parse().unwrap());
        }
        if std::env::var_os("TOLLGATE_SITE_ROOT").is_none() {
            assert_eq!(config.site_root, "target/site");
        }
        let flags = [
            "tollgate",
            "--listen",
            "0.0.0.0:8080",
            "--site-root",
            "/srv/site",
        ];
        let options = Flags::try_parse_from(flags)
            .unwrap()
            .config
            .leptos_options();
        assert_eq!(options.site_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(&*options.site_root, "/srv/site");
        assert_eq!(&*options.output_name, "tollgate");
        assert_eq!(options.env, Env::PROD);
    }

    /// cargo-leptos builds from Cargo.toml's `[[workspace.metadata.leptos]]` and never reads
    /// Leptos.toml: what both hold must agree, or the server looks for files the build did not
    /// write (or listens where `cargo leptos serve` does not look).
    #[test]
    fn cargo_metadata_agrees_with_leptos_toml() {
        let cargo: toml::Table = toml::from_str(include_str!("../../Cargo.toml")).unwrap();
        let projects = cargo["workspace"]["metadata"]["leptos"].as_array().unwrap();
        let build = projects
            .iter()
            .find(|p| p["bin-package"].as_str() == Some("tollgate"))
            .expect("a [[workspace.metadata.leptos]] project for the tollgate package");
        let file: toml::Table = toml::from_str(LEPTOS_TOML).unwrap();
        let runtime = file["leptos-options"].as_table().unwrap();
        for (in_cargo, in_leptos) in [
            ("name", "output-name"),
            ("site-root", "site-root"),
            ("site-pkg-dir", "site-pkg-dir"),
            ("site-addr", "site-addr"),
            ("reload-port", "reload-port"),
        ] {
            assert_eq!(
                build.get(in_cargo),
                runtime.get(in_leptos),
                "Cargo.toml's `{in_cargo}` and Leptos.toml's `{in_leptos}` disagree"
            );
        }
        assert_eq!(build["bin-target"].as_str(), Some("tollgate"));
        // serde ignores keys it does not know: a misspelt one would silently fall back to a
        // default.
        let known = [
            "output-name",
            "site-root",
            "site-pkg-dir",
            "env",
            "site-addr",
            "reload-port",
            "reload-external-port",
            "reload-ws-protocol",
            "not-found-path",
            "hash-file",
            "hash-files",
            "server-fn-prefix",
            "disable-server-fn-hash",
            "server-fn-mod-path",
        ];
        for key in runtime.keys() {
            assert!(
                known.contains(&key.as_str()),
                "Leptos.toml: unknown key `{key}`"
            );
        }
        assert_eq!(file.keys().collect::<Vec<_>>(), ["leptos-options"]);
        parse_leptos_toml(LEPTOS_TOML).unwrap();
    }
}

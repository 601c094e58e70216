//! The built site on disk and how it is served: the bundle's names (content-hashed by a release
//! build), `pkg/` with the brotli or gzip file the build wrote beside each asset, a year of
//! caching for names that carry a hash, and the caching every other response allows.

use app::bundle::Bundle;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use tower_http::services::ServeDir;

/// For a file whose name changes with its content: any cache may keep it for a year unasked.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages hold one person's data: only their browser may keep a copy, and must ask first.
const PAGE: &str = "private, no-cache";
/// Server-function answers are never stored.
const API: &str = "no-store";
/// Anything else (unhashed files): keep it, but revalidate before use.
const REVALIDATE: &str = "no-cache";

/// The site directory and the bundle found in it.
#[derive(Clone, Debug)]
pub struct Site {
    pkg_dir: PathBuf,
    pub bundle: Bundle,
    /// Files in `pkg/` whose names carry a content hash.
    hashed: Arc<HashSet<String>>,
}

impl Site {
    /// Looks in `SITE_ROOT/PKG_DIR` for `OUTPUT.HASH.css|js|wasm` (the newest of each, should a
    /// directory hold several builds); where a file has no hashed name, the plain `OUTPUT.EXT`
    /// is used and revalidated on every use.
    pub fn find(site_root: &str, pkg_dir: &str, output_name: &str) -> Site {
        let dir = Path::new(site_root).join(pkg_dir.trim_matches('/'));
        let files = list_files(&dir);
        let mut bundle = Bundle::plain(pkg_dir, output_name);
        let mut hashed = HashSet::new();
        for (ext, slot) in [
            ("css", &mut bundle.css),
            ("js", &mut bundle.js),
            ("wasm", &mut bundle.wasm),
        ] {
            let (newest, builds) = newest_hashed(&files, output_name, ext);
            if builds > 1 {
                // A build empties the directory first; several means files were copied in by
                // hand, and the newest of each kind may not belong together.
                tracing::warn!(
                    "{} holds {builds} builds' .{ext} files; serving the newest. Deploy one build's site directory.",
                    dir.display()
                );
            }
            if let Some(name) = newest {
                hashed.insert(name.clone());
                *slot = name;
            }
        }
        Site {
            pkg_dir: dir,
            bundle,
            hashed: Arc::new(hashed),
        }
    }

    /// `GET /PKG_DIR/*`: the files, precompressed when the browser accepts it, with their
    /// caching.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let files = ServeDir::new(&self.pkg_dir)
            .precompressed_br()
            .precompressed_gzip();
        Router::new()
            .nest_service(&self.bundle.dir, files)
            .layer(middleware::from_fn_with_state(
                Arc::clone(&self.hashed),
                pkg_caching,
            ))
    }
}

/// The regular files of `dir` with their modification times (none if it cannot be read).
fn list_files(dir: &Path) -> Vec<(String, SystemTime)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let meta = entry.metadata().ok().filter(std::fs::Metadata::is_file)?;
            let name = entry.file_name().into_string().ok()?;
            Some((name, meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        })
        .collect()
}

/// The newest `OUTPUT.HASH.EXT` among `files`, and how many there are.
fn newest_hashed(
    files: &[(String, SystemTime)],
    output_name: &str,
    ext: &str,
) -> (Option<String>, usize) {
    let hashed: Vec<_> = files
        .iter()
        .filter(|(name, _)| hash_of(name, output_name, ext).is_some())
        .collect();
    let newest = hashed
        .iter()
        .max_by_key(|(_, modified)| *modified)
        .map(|(name, _)| name.clone());
    (newest, hashed.len())
}

/// The `HASH` of `OUTPUT.HASH.EXT`: letters, digits, `-` and `_` (cargo-leptos writes a
/// URL-safe base64 digest).
fn hash_of<'a>(name: &'a str, output_name: &str, ext: &str) -> Option<&'a str> {
    let hash = name
        .strip_prefix(output_name)?
        .strip_prefix('.')?
        .strip_suffix(ext)?
        .strip_suffix('.')?;
    let valid = !hash.is_empty()
        && hash
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then_some(hash)
}

/// Files in `pkg/`: a hashed name is cached for a year, anything else revalidated; every
/// answer varies with the encodings the browser accepts.
async fn pkg_caching(
    State(hashed): State<Arc<HashSet<String>>>,
    request: Request,
    next: Next,
) -> Response {
    let name = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut response = next.run(request).await;
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let policy = if found && hashed.contains(&name) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Says how a response may be cached, unless its handler already did: server functions are
/// never stored, pages only privately and revalidated, other files revalidated.
pub async fn caching(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with(app::API_PREFIX);
    let mut response = next.run(request).await;
    let page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let policy = match (api, page) {
        (true, _) => API,
        (false, true) => PAGE,
        (false, false) => REVALIDATE,
    };
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(policy));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_others() {
        assert_eq!(
            hash_of("tollgate.Ab-9_x.wasm", "tollgate", "wasm"),
            Some("Ab-9_x")
        );
        for name in [
            "tollgate.wasm",
            "tollgate..wasm",
            "tollgate.Ab.wasm.br",
            "tollgate_bg.wasm",
            "tollgate.a.b.wasm",
            "other.Ab.wasm",
        ] {
            assert_eq!(hash_of(name, "tollgate", "wasm"), None, "{name}");
        }
    }

    #[test]
    fn the_newest_build_wins() {
        let at = |s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let files = vec![
            ("tollgate.old.js".to_owned(), at(1)),
            ("tollgate.new.js".to_owned(), at(2)),
            ("tollgate.js".to_owned(), at(3)),
        ];
        assert_eq!(
            newest_hashed(&files, "tollgate", "js"),
            (Some("tollgate.new.js".to_owned()), 2)
        );
        assert_eq!(newest_hashed(&files, "tollgate", "css"), (None, 0));
    }
}

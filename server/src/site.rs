//! The built site on disk and how it is served: the bundle's names (content-hashed by a release
//! build) and the map of its lazily loaded pieces (so a page names the pieces it needs),
//! `pkg/` with the brotli or gzip file the build wrote beside each asset, a year of caching for
//! names that carry a hash, and the caching every other response allows.

use app::bundle::{Bundle, Split};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::collections::{HashMap, HashSet};
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
    /// is used and revalidated on every use. Reads the split bundle's map if there is one.
    pub fn find(site_root: &str, pkg_dir: &str, output_name: &str) -> Site {
        let dir = Path::new(site_root).join(pkg_dir.trim_matches('/'));
        let files = list_files(&dir);
        let mut bundle = Bundle::plain(pkg_dir, output_name);
        let mut hashed: HashSet<String> = files
            .iter()
            .map(|(name, _)| name)
            .filter(|name| is_content_hashed(name))
            .cloned()
            .collect();
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
        bundle.split = split_manifest(&dir, &files).map(Arc::new);
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

/// The split bundle's map: for each lazily loaded function (a page), the pieces it needs, read
/// from `__wasm_split_manifest[.HASH].json`, with the loader script `__wasm_split[.HASH].js`.
/// A lazy page rendered on the server names its pieces from it. `None` when the bundle was not
/// split (or its map cannot be read, which is logged: pages still work, fetching their pieces
/// once the main bundle runs).
fn split_manifest(dir: &Path, files: &[(String, SystemTime)]) -> Option<Split> {
    // A debug build writes these names with a placeholder for the hash, or with none.
    let newest_named =
        |stem: &str, ext: &str| newest(files, |name| middle_of(name, stem, ext).is_some()).0;
    let manifest = newest_named("__wasm_split_manifest", "json")?;
    let Some(loader) = newest_named("__wasm_split", "js") else {
        tracing::warn!(
            "{} has {manifest} but no __wasm_split loader script",
            dir.display()
        );
        return None;
    };
    let map: HashMap<String, Vec<String>> = match std::fs::read(dir.join(&manifest))
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(map) => map,
        Err(error) => {
            tracing::warn!("cannot read {}: {error}", dir.join(&manifest).display());
            return None;
        }
    };
    Some(Split {
        loader,
        pieces: map,
    })
}

/// Whether a file's name carries the content hash a release build puts in every `pkg/` name:
/// a dot-separated part, neither the first nor the last, that [`is_hash`].
fn is_content_hashed(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3 && parts[1..parts.len() - 1].iter().copied().any(is_hash)
}

/// A content hash as cargo-leptos writes it: an MD5 digest in 22 URL-safe base64 characters,
/// other than the placeholder of an unhashed build.
fn is_hash(part: &str) -> bool {
    part.len() == 22 && !is_placeholder(part) && is_base64url(part)
}

/// The newest `OUTPUT.HASH.EXT` among `files`, and how many there are. Unlike [`is_hash`],
/// a hash of any length is taken: should a build write another kind, the pages must still
/// name the files it wrote. Too strict a rule here would leave every page without its
/// bundle; in [`is_content_hashed`] it only costs other files a revalidation.
fn newest_hashed(
    files: &[(String, SystemTime)],
    output_name: &str,
    ext: &str,
) -> (Option<String>, usize) {
    newest(files, |name| {
        middle_of(name, output_name, ext)
            .is_some_and(|hash| !hash.is_empty() && !is_placeholder(hash) && is_base64url(hash))
    })
}

/// What an unhashed build writes where the hash would be: underscores only.
fn is_placeholder(part: &str) -> bool {
    part.chars().all(|c| c == '_')
}

fn is_base64url(part: &str) -> bool {
    part.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The newest of `files` whose name `matches`, and how many match.
fn newest(
    files: &[(String, SystemTime)],
    matches: impl Fn(&str) -> bool,
) -> (Option<String>, usize) {
    let matching: Vec<_> = files.iter().filter(|(name, _)| matches(name)).collect();
    let newest = matching
        .iter()
        .max_by_key(|(_, modified)| *modified)
        .map(|(name, _)| name.clone());
    (newest, matching.len())
}

/// What stands between `STEM.` and `.EXT` in a `pkg/` file's name: `""` for `STEM.EXT`, the
/// hash (or its placeholder) for `STEM.HASH.EXT`; `None` for another stem or extension.
fn middle_of<'a>(name: &'a str, stem: &str, ext: &str) -> Option<&'a str> {
    let rest = name
        .strip_prefix(stem)?
        .strip_suffix(ext)?
        .strip_suffix('.')?;
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix('.')
        .filter(|middle| !middle.is_empty() && !middle.contains('.'))
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
    fn names_are_read_as_stem_hash_and_extension() {
        let hash = "XxTG-lUSZp-WmW8e8dRKbA";
        let hashed = format!("tollgate.{hash}.wasm");
        assert_eq!(middle_of(&hashed, "tollgate", "wasm"), Some(hash));
        assert_eq!(middle_of("tollgate.wasm", "tollgate", "wasm"), Some(""));
        assert_eq!(
            middle_of(
                "__wasm_split.______________________.js",
                "__wasm_split",
                "js"
            ),
            Some("______________________")
        );
        for name in [
            "tollgate..wasm",
            "tollgate.Ab.wasm.br",
            "tollgate_bg.wasm",
            "tollgate.a.b.wasm",
            "other.Ab.wasm",
            "__wasm_split_manifest.json",
        ] {
            assert_eq!(middle_of(name, "tollgate", "wasm"), None, "{name}");
        }
        assert_eq!(
            middle_of("__wasm_split_manifest.json", "__wasm_split", "json"),
            None
        );
    }

    #[test]
    fn every_piece_of_a_hashed_build_is_cached_for_good() {
        for name in [
            // As a release build names them.
            "tollgate.XxTG-lUSZp-WmW8e8dRKbA.wasm",
            "__wasm_split.iqwtI6iFeAo0fGmfcoyfPw.js",
            "split___sso_view_9970732901294815626.jRE93UOsp-Dz064BAz3G8w.wasm",
            "chunk_11.BbpIAAxF2DrdZsj8tx0r9w.wasm",
            "__wasm_split_manifest.I8wzotxIYjIlkcleJnDcCw.json",
        ] {
            assert!(is_content_hashed(name), "{name}");
        }
        for name in [
            "tollgate.wasm",
            "__wasm_split.______________________.js",
            "__wasm_split_manifest.json",
            "tollgate.short.js",
            "tollgate.XxTG-lUSZp-WmW8e8dRKbA",
            "XxTG-lUSZp-WmW8e8dRKbA.js",
            "tollgate.XxTG-lUSZp-WmW8e8dRKbA+.wasm",
        ] {
            assert!(!is_content_hashed(name), "{name}");
        }
    }

    #[test]
    fn the_split_map_names_each_lazy_page_s_pieces_and_the_loader() {
        let dir = std::env::temp_dir().join(format!("tollgate-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = |names: &[&str]| -> Vec<(String, SystemTime)> {
            names
                .iter()
                .map(|n| (n.to_string(), SystemTime::UNIX_EPOCH))
                .collect()
        };
        let manifest = "__wasm_split_manifest.Ab-9_xAb-9_xAb-9_xAb-9_x.json";
        let loader = "__wasm_split.Cd-9_xAb-9_xAb-9_xAb-9_x.js";
        std::fs::write(
            dir.join(manifest),
            r#"{"__billing_view_1": ["chunk_1.H", "split___billing_view_1.H"]}"#,
        )
        .unwrap();

        let found = split_manifest(&dir, &files(&[manifest, loader])).unwrap();
        assert_eq!(found.loader, loader);
        assert_eq!(
            found.pieces["__billing_view_1"],
            ["chunk_1.H", "split___billing_view_1.H"]
        );

        // No map (a build without --split), no loader, or a map that does not parse: none.
        assert!(split_manifest(&dir, &files(&[loader])).is_none());
        assert!(split_manifest(&dir, &files(&[manifest])).is_none());
        std::fs::write(dir.join(manifest), "not json").unwrap();
        assert!(split_manifest(&dir, &files(&[manifest, loader])).is_none());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn the_newest_build_wins() {
        let at = |s| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let old = "tollgate.0ld0ld0ld0ld0ld0ld0ld0.js";
        let new = "tollgate.NewNewNewNewNewNewNewN.js";
        let files = vec![
            (old.to_owned(), at(1)),
            (new.to_owned(), at(2)),
            ("tollgate.js".to_owned(), at(3)),
            ("tollgate.______________________.js".to_owned(), at(4)),
        ];
        assert_eq!(
            newest_hashed(&files, "tollgate", "js"),
            (Some(new.to_owned()), 2)
        );
        assert_eq!(newest_hashed(&files, "tollgate", "css"), (None, 0));

        // A hash of another length is still the bundle (and, as the bundle's, cached for a
        // year), though a file of no name the server looked for would not be.
        let short = vec![("tollgate.Ab-9_x.wasm".to_owned(), at(1))];
        assert_eq!(
            newest_hashed(&short, "tollgate", "wasm"),
            (Some("tollgate.Ab-9_x.wasm".to_owned()), 1)
        );
        assert!(!is_content_hashed("tollgate.Ab-9_x.wasm"));
    }
}

//! The built browser bundle a page loads — its stylesheet, JavaScript and WebAssembly, and the
//! pieces of WebAssembly a lazily loaded page adds — under the names the build gave them. A
//! release build puts a content hash in each name (so a browser may keep a file for a year and
//! still never runs a stale one); the server finds the names in the site directory at start and
//! provides a [`Bundle`] to every page render.

use leptos::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// File names of the bundle inside the site's `pkg` directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The URL path of the `pkg` directory, e.g. `/pkg`.
    pub dir: String,
    pub css: String,
    pub js: String,
    pub wasm: String,
    /// The split build's map, if the bundle was split (`cargo leptos build --split`).
    pub split: Option<Arc<Split>>,
}

/// How a split bundle is cut: the script that loads pieces, and for each lazily loaded
/// function the pieces (`.wasm` file stems) it needs, as the build's
/// `__wasm_split_manifest.json` lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub loader: String,
    pub pieces: HashMap<String, Vec<String>>,
}

impl Bundle {
    /// The names a build without content hashes gives: `NAME.css`, `NAME.js`, `NAME.wasm`.
    pub fn plain(pkg_dir: &str, output_name: &str) -> Self {
        Bundle {
            dir: format!("/{}", pkg_dir.trim_matches('/')),
            css: format!("{output_name}.css"),
            js: format!("{output_name}.js"),
            wasm: format!("{output_name}.wasm"),
            split: None,
        }
    }

    /// The URLs of the pieces the lazily loaded page `route` (its type's name in
    /// [`crate::pages`], e.g. `AcceptInvite`) needs, with the loader script's: none when the
    /// bundle is not split. Leptos names a lazy route's view function `__<route>_view_<id>`, in
    /// snake case.
    #[cfg(any(feature = "ssr", test))]
    fn pieces_of(&self, route: &str) -> Option<(Vec<String>, String)> {
        let split = self.split.as_ref()?;
        let prefix = format!("__{}_view_", snake_case(route));
        let (_, stems) = split
            .pieces
            .iter()
            .find(|(name, _)| name.strip_prefix(&prefix).is_some_and(is_digits))?;
        let wasm = stems
            .iter()
            .map(|stem| self.url(&format!("{stem}.wasm")))
            .collect();
        Some((wasm, self.url(&split.loader)))
    }

    fn url(&self, file: &str) -> String {
        format!("{}/{file}", self.dir)
    }

    /// The module script that loads the WebAssembly and hydrates the page.
    fn boot_script(&self) -> String {
        format!(
            "import init, {{ hydrate }} from {js:?};\ninit({{ module_or_path: {wasm:?} }}).then(hydrate);",
            js = self.url(&self.js),
            wasm = self.url(&self.wasm),
        )
    }
}

/// The `<head>` links and script that load the bundle: the stylesheet, early fetches of the
/// JavaScript and WebAssembly, and the module that hydrates. Uses the [`Bundle`] in context,
/// else the plain names of `options`.
#[component]
pub fn BundleLinks(options: LeptosOptions) -> impl IntoView {
    let bundle = use_context::<Bundle>()
        .unwrap_or_else(|| Bundle::plain(&options.site_pkg_dir, &options.output_name));
    let nonce = leptos::nonce::use_nonce();
    view! {
        <link rel="stylesheet" href=bundle.url(&bundle.css) />
        <link rel="modulepreload" href=bundle.url(&bundle.js) />
        <link
            rel="preload"
            href=bundle.url(&bundle.wasm)
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=""
        />
        <script type="module" nonce=nonce>
            {bundle.boot_script()}
        </script>
    }
}

/// The lazy pages whose pieces this page's `<head>` already names: the server may render a
/// page's view more than once while its data loads. One per page render, from [`crate::shell`].
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct Preloaded(Arc<std::sync::Mutex<std::collections::HashSet<&'static str>>>);

/// Asks the browser, from the page's `<head>`, to fetch the pieces of the bundle the lazily
/// loaded page `route` needs beside the main bundle, instead of once the main bundle has run.
/// Called by the server as it renders such a page (the links go where `MetaTags` is).
#[cfg(feature = "ssr")]
pub fn preload_pieces(route: &'static str) {
    use leptos_meta::Link;
    if let Some(Preloaded(done)) = use_context::<Preloaded>() {
        let first = done.lock().unwrap_or_else(|e| e.into_inner()).insert(route);
        if !first {
            return;
        }
    }
    let Some((wasm, loader)) = use_context::<Bundle>().and_then(|b| b.pieces_of(route)) else {
        return;
    };
    for href in wasm {
        // `to_html` on a meta component registers it with the page's <head>.
        let _ = view! { <Link rel="preload" href=href as_="fetch" type_="application/wasm" crossorigin="" /> }
        .to_html();
    }
    let _ = view! { <Link rel="modulepreload" href=loader /> }.to_html();
}

/// `AcceptInvite` → `accept_invite`.
#[cfg(any(feature = "ssr", test))]
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(any(feature = "ssr", test))]
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::{Bundle, Split};
    use std::sync::Arc;

    #[test]
    fn a_lazy_page_preloads_exactly_its_own_pieces() {
        let pieces = [
            (
                "__accept_invite_view_42",
                vec!["chunk_1.a", "split___accept_invite_view_42.b"],
            ),
            ("__invite_view_7", vec!["chunk_2.c"]),
            ("__sso_view_9", vec!["chunk_1.a", "split___sso_view_9.d"]),
        ];
        let bundle = Bundle {
            split: Some(Arc::new(Split {
                loader: "__wasm_split.e.js".into(),
                pieces: pieces
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
                    .collect(),
            })),
            ..Bundle::plain("pkg", "tollgate")
        };
        assert_eq!(
            bundle.pieces_of("AcceptInvite"),
            Some((
                vec![
                    "/pkg/chunk_1.a.wasm".to_owned(),
                    "/pkg/split___accept_invite_view_42.b.wasm".to_owned()
                ],
                "/pkg/__wasm_split.e.js".to_owned()
            ))
        );
        assert_eq!(bundle.pieces_of("Sso").map(|(wasm, _)| wasm.len()), Some(2));
        assert_eq!(bundle.pieces_of("Billing"), None);
        assert_eq!(Bundle::plain("pkg", "tollgate").pieces_of("Sso"), None);
    }

    #[test]
    fn the_boot_script_imports_the_named_files() {
        let bundle = Bundle {
            css: "tollgate.c1.css".into(),
            js: "tollgate.j1.js".into(),
            wasm: "tollgate.w1.wasm".into(),
            ..Bundle::plain("pkg", "tollgate")
        };
        assert_eq!(bundle.dir, "/pkg");
        assert_eq!(
            bundle.boot_script(),
            "import init, { hydrate } from \"/pkg/tollgate.j1.js\";\n\
             init({ module_or_path: \"/pkg/tollgate.w1.wasm\" }).then(hydrate);"
        );
    }
}

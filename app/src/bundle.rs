//! The built browser bundle a page loads — its stylesheet, JavaScript and WebAssembly — under
//! the names the build gave them. A release build puts a content hash in each name (so a
//! browser may keep a file for a year and still never runs a stale one); the server finds the
//! names in the site directory at start and provides a [`Bundle`] to every page render.

use leptos::prelude::*;

/// File names of the bundle inside the site's `pkg` directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The URL path of the `pkg` directory, e.g. `/pkg`.
    pub dir: String,
    pub css: String,
    pub js: String,
    pub wasm: String,
}

impl Bundle {
    /// The names a build without content hashes gives: `NAME.css`, `NAME.js`, `NAME.wasm`.
    pub fn plain(pkg_dir: &str, output_name: &str) -> Self {
        Bundle {
            dir: format!("/{}", pkg_dir.trim_matches('/')),
            css: format!("{output_name}.css"),
            js: format!("{output_name}.js"),
            wasm: format!("{output_name}.wasm"),
        }
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

#[cfg(test)]
mod tests {
    use super::Bundle;

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

//! How the built site is served, as a browser sees it: pages name the bundle's hashed files;
//! those come precompressed (brotli or gzip, as the browser accepts) and may be cached for a
//! year; pages are compressed on the fly and revalidated, server-function answers never stored,
//! and the `/v1` API left as its clients expect it.

use crate::support::{PASSWORD, TestServer};
use axum::body::Body;
use domain::secret::Secret;
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};

const WASM: &[u8] = b"\0asm the bundle";

/// A site directory as a release build leaves it: names with a 22-character content hash, each
/// with its .br and .gz (whose contents here just name themselves), and the favicon.
fn release_site() -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "tollgate-site-{}",
        &Secret::random().digest()[..12]
    ));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (name, body) in [
        ("tollgate.Css1Css1Css1Css1Css1Cs.css", b"body{}".as_slice()),
        (
            "tollgate.Js-1Js-1Js-1Js-1Js-1Js.js",
            b"export function hydrate(){}".as_slice(),
        ),
        ("tollgate.W_as1W_as1W_as1W_as1W_.wasm", WASM),
    ] {
        std::fs::write(pkg.join(name), body).unwrap();
        std::fs::write(pkg.join(format!("{name}.br")), format!("br of {name}")).unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gz of {name}")).unwrap();
    }
    std::fs::write(root.join("favicon.svg"), "<svg/>").unwrap();
    root
}

/// A site as a debug build leaves it: plain names, nothing precompressed.
fn plain_site() -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "tollgate-site-{}",
        &Secret::random().digest()[..12]
    ));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for name in ["tollgate.css", "tollgate.js", "tollgate.wasm"] {
        std::fs::write(pkg.join(name), "x").unwrap();
    }
    root
}

/// A server (with its first Owner) serving the site at `root`.
async fn serving(root: &Path) -> TestServer {
    let root = root.to_str().unwrap().to_owned();
    TestServer::with_owner_and("Ada", "ada@example.com", &[], |state| {
        state.leptos_options.site_root = root.as_str().into();
        state.site = tollgate::site::Site::find(&root, "pkg", "tollgate");
    })
    .await
    .0
}

async fn get(server: &TestServer, path: &str, encodings: Option<&str>) -> Response<Body> {
    let mut req = Request::get(path).header(header::ACCEPT, "*/*");
    if let Some(e) = encodings {
        req = req.header(header::ACCEPT_ENCODING, e);
    }
    server.send(req.body(Body::empty()).unwrap()).await
}

fn header_value(res: &Response<Body>, name: header::HeaderName) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

async fn bytes(res: Response<Body>) -> Vec<u8> {
    res.into_body().collect().await.unwrap().to_bytes().to_vec()
}

#[tokio::test]
async fn pages_load_the_hashed_bundle_which_is_precompressed_and_cached_for_a_year() {
    let root = release_site();
    let server = serving(&root).await;

    let page = get(&server, "/login", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        header_value(&page, header::CACHE_CONTROL).as_deref(),
        Some("private, no-cache")
    );
    let html = String::from_utf8(bytes(page).await).unwrap();
    for url in [
        r#"<link rel="stylesheet" href="/pkg/tollgate.Css1Css1Css1Css1Css1Cs.css""#,
        r#"<link rel="modulepreload" href="/pkg/tollgate.Js-1Js-1Js-1Js-1Js-1Js.js""#,
        r#"href="/pkg/tollgate.W_as1W_as1W_as1W_as1W_.wasm""#,
        r#"import init, { hydrate } from "/pkg/tollgate.Js-1Js-1Js-1Js-1Js-1Js.js""#,
        r#"module_or_path: "/pkg/tollgate.W_as1W_as1W_as1W_as1W_.wasm""#,
    ] {
        assert!(html.contains(url), "{url} missing from {html}");
    }

    for (accepts, encoding, body) in [
        (
            Some("gzip, deflate, br, zstd"),
            Some("br"),
            b"br of tollgate.W_as1W_as1W_as1W_as1W_.wasm".to_vec(),
        ),
        (
            Some("gzip"),
            Some("gzip"),
            b"gz of tollgate.W_as1W_as1W_as1W_as1W_.wasm".to_vec(),
        ),
        (None, None, WASM.to_vec()),
    ] {
        let res = get(
            &server,
            "/pkg/tollgate.W_as1W_as1W_as1W_as1W_.wasm",
            accepts,
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{accepts:?}");
        assert_eq!(
            header_value(&res, header::CONTENT_ENCODING).as_deref(),
            encoding
        );
        assert_eq!(
            header_value(&res, header::CONTENT_TYPE).as_deref(),
            Some("application/wasm")
        );
        assert_eq!(
            header_value(&res, header::CACHE_CONTROL).as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(
            header_value(&res, header::VARY).as_deref(),
            Some("accept-encoding")
        );
        assert_eq!(bytes(res).await, body, "{accepts:?}");
    }

    // A name the build did not give (an old release's, say) is not found, and not cached.
    let gone = get(&server, "/pkg/tollgate.Old.wasm", Some("br")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header_value(&gone, header::CACHE_CONTROL).as_deref(),
        Some("no-cache")
    );
    // Files outside the bundle are revalidated.
    let icon = get(&server, "/favicon.svg", None).await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert_eq!(
        header_value(&icon, header::CACHE_CONTROL).as_deref(),
        Some("no-cache")
    );
    server.finish().await;
    std::fs::remove_dir_all(root).ok();
}

#[tokio::test]
async fn a_build_without_hashes_is_loaded_by_its_plain_names_and_revalidated() {
    let root = plain_site();
    let server = serving(&root).await;
    let html = String::from_utf8(bytes(get(&server, "/login", None).await).await).unwrap();
    assert!(html.contains(r#"href="/pkg/tollgate.css""#), "{html}");
    assert!(html.contains(r#"from "/pkg/tollgate.js""#), "{html}");
    let res = get(&server, "/pkg/tollgate.wasm", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header_value(&res, header::CACHE_CONTROL).as_deref(),
        Some("no-cache")
    );
    server.finish().await;
    std::fs::remove_dir_all(root).ok();
}

#[tokio::test]
async fn pages_and_server_functions_are_compressed_and_answers_never_stored() {
    let root = release_site();
    let server = serving(&root).await;

    let page = get(&server, "/login", Some("gzip")).await;
    assert_eq!(
        header_value(&page, header::CONTENT_ENCODING).as_deref(),
        Some("gzip")
    );
    let gzipped = bytes(page).await;
    let plain = bytes(get(&server, "/login", None).await).await;
    assert!(
        gzipped.len() < plain.len(),
        "{} vs {}",
        gzipped.len(),
        plain.len()
    );

    let sign_in = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::ACCEPT_ENCODING, "br")
        .body(Body::from(format!(
            "email=ada@example.com&password={}",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let answer = server.send(sign_in).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        header_value(&answer, header::CACHE_CONTROL).as_deref(),
        Some("no-store")
    );

    // The OpenAI-compatible API is answered as its clients expect: never recompressed (streams
    // would stall in a compressor's buffer).
    let api = get(&server, "/v1/models", Some("gzip, br")).await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header_value(&api, header::CONTENT_ENCODING), None);
    server.finish().await;
    std::fs::remove_dir_all(root).ok();
}

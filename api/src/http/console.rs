//! The staff console: the Vue bundle of `console/dist`, embedded in the binary
//! when it is compiled and served at `/console/`, so the service needs no Node
//! and no files beside it at run time.

use include_dir::{Dir, include_dir};
use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, get, handler,
    http::{HeaderValue, StatusCode, header},
    middleware::SetHeader,
};

/// `include_bytes!` of every file: rebuilding the bundle (which always
/// rewrites `index.html`) rebuilds the crate.
static BUNDLE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../console/dist");

/// Where the console is served.
pub const MOUNT: &str = "/console";

/// No script but the bundle's own files, no framing of the console, no
/// plugins, no `<base>`. Styles may be inline: Element Plus sets positions and
/// sizes in `style` attributes (popovers, tables, dialogs), which `'self'`
/// alone would block. A case's documents are fetched with the member's token
/// and shown from `blob:` addresses the page itself made: images in `<img>`,
/// PDFs in a frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-src blob:; font-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

/// Bundled assets carry a hash of their content in their names: cached for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page names the current assets: asked again every time.
const REVALIDATE: &str = "no-cache";

/// The console's endpoint, to be nested at [`MOUNT`], with its security headers
/// on every answer.
pub fn endpoint() -> impl Endpoint + 'static {
    get(serve).with(
        SetHeader::new()
            .overriding(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
            .overriding(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .overriding(header::REFERRER_POLICY, "no-referrer")
            .overriding(header::X_FRAME_OPTIONS, "DENY"),
    )
}

#[handler]
fn serve(req: &Request) -> Response {
    if req.original_uri().path() == MOUNT {
        return Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, format!("{MOUNT}/"))
            .finish();
    }
    let path = req.uri().path().trim_start_matches('/');
    match BUNDLE.get_file(path).filter(|_| !path.is_empty()) {
        Some(file) => file_response(path, file.contents()),
        // A hashed asset that is not in this bundle is gone, not a page.
        None if path.starts_with("assets/") => StatusCode::NOT_FOUND.into_response(),
        // Every other path is a route of the single-page app.
        None => index(),
    }
}

fn index() -> Response {
    let page = BUNDLE
        .get_file("index.html")
        .expect("console/dist holds index.html: run `npm ci && npm run build` in console/");
    file_response("index.html", page.contents())
}

fn file_response(path: &str, contents: &'static [u8]) -> Response {
    let cache = if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    Response::builder()
        .header(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)))
        .header(header::CACHE_CONTROL, cache)
        .body(contents)
}

/// The media type of a file of the bundle, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_is_embedded_with_its_page_and_hashed_assets() {
        let page = BUNDLE.get_file("index.html").expect("index.html");
        let page = std::str::from_utf8(page.contents()).unwrap();
        let scripts: Vec<&str> = page
            .split("src=\"/console/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(!scripts.is_empty(), "the page loads the bundle's script");
        for script in scripts {
            assert!(BUNDLE.get_file(script).is_some(), "{script} is embedded");
        }
        assert!(!page.contains("<script>"), "no inline script: the CSP refuses it");
    }

    #[test]
    fn files_are_typed_by_extension() {
        assert_eq!(content_type("assets/index-abc.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("assets/index-abc.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}

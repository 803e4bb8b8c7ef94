//! The console's stylesheet and script, compiled into the binary (no build step, nothing read
//! from disk). Cached for five minutes, so an upgrade shows within minutes.

use axum::{
    extract::Path,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// Where pages load the stylesheet from.
pub(crate) const CSS_PATH: &str = "/console/assets/console.css";
/// Where pages load the script from.
pub(crate) const JS_PATH: &str = "/console/assets/console.js";

pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

//! What the emulator serves besides Kakao's APIs: profile images (so an
//! avatar cache can be tested end to end, offline) and the bridge page.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::EmulatorState;
use crate::pages;

/// `(file name, PNG bytes)`; `_110x110` are thumbnails, `_640x640` profiles,
/// the sizes Kakao documents.
const IMAGES: &[(&str, &[u8])] = &[
    (
        "default_110x110.png",
        include_bytes!("../assets/images/default_110x110.png"),
    ),
    (
        "default_640x640.png",
        include_bytes!("../assets/images/default_640x640.png"),
    ),
    (
        "yellow_110x110.png",
        include_bytes!("../assets/images/yellow_110x110.png"),
    ),
    (
        "yellow_640x640.png",
        include_bytes!("../assets/images/yellow_640x640.png"),
    ),
    (
        "mint_110x110.png",
        include_bytes!("../assets/images/mint_110x110.png"),
    ),
    (
        "mint_640x640.png",
        include_bytes!("../assets/images/mint_640x640.png"),
    ),
    (
        "peach_110x110.png",
        include_bytes!("../assets/images/peach_110x110.png"),
    ),
    (
        "peach_640x640.png",
        include_bytes!("../assets/images/peach_640x640.png"),
    ),
];

/// `GET /images/{file}`.
pub(crate) async fn image(Path(file): Path<String>) -> Response {
    let Some((_, bytes)) = IMAGES.iter().find(|(name, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

/// `GET /bridge/kakao/signed-out`: where the browser lands after Kakao's
/// account logout.
pub(crate) async fn signed_out() -> Response {
    pages::signed_out()
}

/// `GET /bridge/kakao/callback`: forwards the whole query string, untouched,
/// to `<scheme>://oauth/callback?...`.
pub(crate) async fn bridge(
    State(state): State<EmulatorState>,
    RawQuery(query): RawQuery,
) -> Response {
    let scheme = &state.shared().bridge_scheme;
    let target = match query.as_deref() {
        Some(q) if !q.is_empty() => format!("{scheme}://oauth/callback?{q}"),
        _ => format!("{scheme}://oauth/callback"),
    };
    pages::bridge(&target)
}

//! Kakao's response conventions: the JSON content type and the two error shapes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Kakao's JSON content type, with its exact spelling (some clients choke on
/// the `;charset=UTF-8` suffix; they must cope, since Kakao sends it).
pub(crate) const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// A JSON body with Kakao's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    json_with_type(status, body, JSON_UTF8)
}

pub(crate) fn json_with_type(
    status: StatusCode,
    body: &Value,
    content_type: &'static str,
) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A kauth error: `{"error","error_description","error_code"}`.
#[derive(Debug)]
pub(crate) struct KauthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub code: &'static str,
}

impl KauthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        code: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            code,
        }
    }
}

impl IntoResponse for KauthError {
    fn into_response(self) -> Response {
        json_response(
            self.status,
            &json!({"error": self.error, "error_description": self.description, "error_code": self.code}),
        )
    }
}

/// A kapi error: `{"msg","code"}`.
#[derive(Debug)]
pub(crate) struct KapiError {
    pub status: StatusCode,
    pub msg: &'static str,
    pub code: i32,
}

impl KapiError {
    /// `401 -401`: unknown or revoked token, or no bearer token at all.
    pub(crate) const TOKEN_NOT_FOUND: Self = Self {
        status: StatusCode::UNAUTHORIZED,
        msg: "this access token does not exist",
        code: -401,
    };
    /// `401 -401`: the token existed but its lifetime is over.
    pub(crate) const TOKEN_EXPIRED: Self = Self {
        status: StatusCode::UNAUTHORIZED,
        msg: "this access token is already expired",
        code: -401,
    };
    /// `400 -2`: a malformed parameter.
    pub(crate) const INVALID_PARAMETER: Self = Self {
        status: StatusCode::BAD_REQUEST,
        msg: "invalid request parameter",
        code: -2,
    };
    /// `503 -9798`: kapi's server-side outage ("서비스 점검 중"); a kapi `-1`
    /// is a 400 ([`Self::INTERNAL`]), not a 5xx.
    pub(crate) const MAINTENANCE: Self = Self {
        status: StatusCode::SERVICE_UNAVAILABLE,
        msg: "service is under maintenance",
        code: -9798,
    };
    /// `400 -1`: Kakao's temporary internal error.
    pub(crate) const INTERNAL: Self = Self {
        status: StatusCode::BAD_REQUEST,
        msg: "internal error",
        code: -1,
    };
}

impl IntoResponse for KapiError {
    fn into_response(self) -> Response {
        json_response(self.status, &json!({"msg": self.msg, "code": self.code}))
    }
}

/// An HTML page (consent, error, bridge).
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `302` with an empty body, as Kakao answers authorize (`docs/kakao-api.md` §1.3).
pub(crate) fn found(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(location) {
        Ok(v) => {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR,
    }
    response
}

/// Percent-encodes a query value with `%20` for spaces, as Kakao's redirects do
/// (`error_description=User%20denied%20access`).
pub(crate) fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `uri` plus query pairs, joined with `?` or `&` as the URI needs.
pub(crate) fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    for (i, (k, v)) in pairs.iter().enumerate() {
        let sep = if i == 0 && !uri.contains('?') {
            '?'
        } else {
            '&'
        };
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&encode_query_value(v));
    }
    out
}

/// HTML-escapes text for pages.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_use_percent_20_for_spaces() {
        assert_eq!(
            with_query(
                "http://x/cb",
                &[
                    ("error", "access_denied"),
                    ("error_description", "User denied access")
                ]
            ),
            "http://x/cb?error=access_denied&error_description=User%20denied%20access",
            "Kakao's documented cancel redirect spells spaces %20"
        );
        assert_eq!(
            with_query("http://x/cb?a=1", &[("code", "c")]),
            "http://x/cb?a=1&code=c",
            "existing query kept"
        );
    }
}

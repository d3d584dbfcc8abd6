//! Kakao's error bodies, classified into the stable [`crate::ErrorCode`]s.
//!
//! kauth answers `{"error", "error_description", "error_code": "KOE…"}`, kapi
//! `{"msg", "code": -NNN}` (`docs/kakao-api.md` §3.4, §6). Kakao says the texts may
//! change, so only the codes are used; the text is never kept (it can echo the
//! authorization code: `authorization code not found for code=…`).

use serde::Deserialize;
use thiserror::Error;

use crate::ErrorCode;

/// Why a call to Kakao failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KakaoError {
    /// No answer: connection refused, DNS, TLS, reset, or the timeout.
    #[error("Kakao could not be reached{}", if *.timeout { " (timed out)" } else { "" })]
    Network {
        /// Whether the request timed out.
        timeout: bool,
    },
    /// kauth's error body.
    #[error("kauth answered {status} {error} {error_code}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// OAuth `error` (`invalid_grant`, …).
        error: String,
        /// Kakao's `error_code` (`KOE320`, …); empty when absent.
        error_code: String,
    },
    /// kapi's error body.
    #[error("kapi answered {status} code {code}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Kakao's negative code (-401, -402, …).
        code: i64,
        /// For -402: the scopes Kakao wants consent for.
        required_scopes: Vec<String>,
    },
    /// An HTTP error status without a Kakao error body (a proxy, a 502 page).
    #[error("Kakao answered HTTP {status} without an error body")]
    Status {
        /// HTTP status.
        status: u16,
    },
    /// A success status whose body could not be read as the expected JSON
    /// (truncated, not JSON, missing fields).
    #[error("Kakao's answer could not be read (HTTP {status})")]
    Malformed {
        /// HTTP status.
        status: u16,
    },
    /// The backend server's error body (backend mode: README, "Backend
    /// mode"), `{"code", "message"}`; only the code is kept.
    #[error("the backend server answered {status} {code}")]
    Backend {
        /// HTTP status.
        status: u16,
        /// The server's stable code (`refresh_reused`, …).
        code: String,
    },
    /// A body larger than allowed (only for downloads with a cap).
    #[error("Kakao's answer exceeded {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
}

impl KakaoError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Network { .. } => ErrorCode::Network,
            Self::Auth {
                error, error_code, ..
            } => auth_code(error, error_code),
            Self::Api { code, .. } => api_code(*code),
            Self::Status { status } => match status {
                429 => ErrorCode::RateLimited,
                500..=599 => ErrorCode::KakaoTemporary,
                // 404/405 and friends: the base URL does not point at Kakao.
                _ => ErrorCode::KakaoConfig,
            },
            Self::Malformed { .. } => ErrorCode::KakaoTemporary,
            Self::Backend { status, code } => backend_code(*status, code),
            Self::TooLarge { .. } => ErrorCode::Internal,
        }
    }

    /// Kakao's own code for logs: `KOE320`, `-401`, `HTTP 502`, `timeout`.
    pub fn kakao_code(&self) -> String {
        match self {
            Self::Network { timeout: true } => "timeout".to_owned(),
            Self::Network { timeout: false } => "unreachable".to_owned(),
            Self::Auth {
                error, error_code, ..
            } if error_code.is_empty() => error.clone(),
            Self::Auth { error_code, .. } => error_code.clone(),
            Self::Api { code, .. } => code.to_string(),
            Self::Status { status } | Self::Malformed { status } => format!("HTTP {status}"),
            Self::Backend { code, .. } => format!("server {code}"),
            Self::TooLarge { .. } => "too_large".to_owned(),
        }
    }

    /// True for kapi's -401: the access token is invalid or expired, so a
    /// refresh may help (`docs/kakao-api.md` §6.1).
    pub fn is_invalid_token(&self) -> bool {
        match self {
            Self::Api { code: -401, .. } => true,
            // The backend's own access token: a refresh through it may help.
            // `session_ended` too: the refresh that follows hears the same
            // and ends the session here, as the server has.
            Self::Backend { code, .. } => {
                matches!(
                    code.as_str(),
                    "token_expired" | "unauthorized" | "session_ended"
                )
            }
            _ => false,
        }
    }

    /// For kapi's -402: the scopes Kakao wants consent for (possibly none,
    /// when the body names none).
    pub fn required_scopes(&self) -> Option<&[String]> {
        match self {
            Self::Api {
                code: -402,
                required_scopes,
                ..
            } => Some(required_scopes),
            _ => None,
        }
    }

    /// True for faults worth one retry with jitter (`docs/kakao-api.md` §8):
    /// network errors, timeouts, -1, -7, -603, -9798, KOE003, 5xx, and bodies
    /// cut short.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.code(),
            ErrorCode::KakaoTemporary | ErrorCode::ServerUnavailable
        ) || matches!(self, Self::Network { .. })
    }

    /// True when Kakao could not be reached or had a passing fault
    /// (`network`, `kakao_temporary`): the app keeps the session and shows
    /// the cached profile as offline rather than an error.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self.code(),
            ErrorCode::Network | ErrorCode::KakaoTemporary | ErrorCode::ServerUnavailable
        )
    }
}

/// The backend server's codes (`kakao-desk-server`, `src/error.rs`).
fn backend_code(status: u16, code: &str) -> ErrorCode {
    match code {
        // The session is over (or the login's code was spent): sign in again.
        "refresh_invalid" | "refresh_reused" | "session_ended" | "code_rejected"
        | "token_expired" | "unauthorized" => ErrorCode::SessionExpired,
        "nonce_mismatch" => ErrorCode::StateMismatch,
        // The server's access token does not verify here: the app and the
        // server disagree about the issuer, the audience or the keys.
        "bad_token" => ErrorCode::ServerConfig,
        // Not reached, too slow, failing, or answering nonsense.
        "unreachable" | "timeout" | "storage" | "internal" | "bad_answer" => {
            ErrorCode::ServerUnavailable
        }
        "email_taken" => ErrorCode::AccountConflict,
        "consent_required" => ErrorCode::ConsentRequired,
        "rate_limited" | "kakao_rate_limited" => ErrorCode::RateLimited,
        // Kakao behind the server: the same words as in direct mode.
        "kakao_unavailable" | "kakao_bad_answer" => ErrorCode::KakaoTemporary,
        // The app and the server disagree about the set-up.
        "invalid_request"
        | "redirect_uri_not_allowed"
        | "kakao_config"
        | "id_token_invalid"
        | "not_found"
        | "payload_too_large" => ErrorCode::ServerConfig,
        _ if status >= 500 || status == 429 => ErrorCode::ServerUnavailable,
        _ => ErrorCode::ServerConfig,
    }
}

/// kauth codes (`docs/kakao-api.md` §1.3, §3.4).
fn auth_code(error: &str, error_code: &str) -> ErrorCode {
    match error_code {
        "KOE001" | "KOE002" | "KOE004" | "KOE005" | "KOE006" | "KOE007" | "KOE008" | "KOE009"
        | "KOE010" | "KOE101" | "KOE102" | "KOE201" | "KOE202" | "KOE205" | "KOE303" | "KOE310" => {
            ErrorCode::KakaoConfig
        }
        "KOE003" => ErrorCode::KakaoTemporary,
        "KOE237" => ErrorCode::RateLimited,
        // KOE319 (no refresh token sent), KOE320 (code used, expired or PKCE
        // failed) and KOE322 (refresh token expired, revoked or rotated): the
        // grant is gone and only a new login helps.
        "KOE319" | "KOE320" | "KOE322" => ErrorCode::SessionExpired,
        _ => match error {
            "invalid_grant" | "invalid_token" => ErrorCode::SessionExpired,
            "server_error" | "temporarily_unavailable" => ErrorCode::KakaoTemporary,
            _ => ErrorCode::KakaoConfig,
        },
    }
}

/// kapi codes (`docs/kakao-api.md` §6).
fn api_code(code: i64) -> ErrorCode {
    match code {
        -1 | -7 | -603 | -9798 => ErrorCode::KakaoTemporary,
        -10 => ErrorCode::RateLimited,
        -402 => ErrorCode::ConsentRequired,
        // -401 surviving a refresh, an unlinked user, an under-age account or
        // a sanctioned one: the session cannot go on.
        -401 | -101 | -406 | -4 | -12 => ErrorCode::SessionExpired,
        -2 | -3 | -5 | -8 | -9 | -903 => ErrorCode::KakaoConfig,
        _ => ErrorCode::Internal,
    }
}

#[derive(Deserialize)]
struct AuthBody {
    error: String,
    #[serde(default)]
    error_code: Option<String>,
}

#[derive(Deserialize)]
struct ApiBody {
    code: i64,
    #[serde(default)]
    required_scopes: Vec<String>,
}

/// Classifies an error answer by its body shape.
pub(crate) fn from_error_body(status: u16, body: &[u8]) -> KakaoError {
    if let Ok(auth) = serde_json::from_slice::<AuthBody>(body) {
        return KakaoError::Auth {
            status,
            error: sanitise(&auth.error),
            error_code: sanitise(auth.error_code.as_deref().unwrap_or_default()),
        };
    }
    if let Ok(api) = serde_json::from_slice::<ApiBody>(body) {
        return KakaoError::Api {
            status,
            code: api.code,
            required_scopes: api.required_scopes.iter().map(|s| sanitise(s)).collect(),
        };
    }
    KakaoError::Status { status }
}

/// Keeps a code loggable: ASCII word characters, bounded.
fn sanitise(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kauth_codes_map_to_design_section_6() {
        let cases = [
            (
                400,
                r#"{"error":"invalid_grant","error_description":"authorization code not found for code=SECRET","error_code":"KOE320"}"#,
                ErrorCode::SessionExpired,
            ),
            (
                400,
                r#"{"error":"invalid_grant","error_description":"expired_or_invalid_refresh_token","error_code":"KOE322"}"#,
                ErrorCode::SessionExpired,
            ),
            (
                400,
                r#"{"error":"invalid_grant","error_description":"Redirect URI mismatch.","error_code":"KOE303"}"#,
                ErrorCode::KakaoConfig,
            ),
            (
                401,
                r#"{"error":"invalid_client","error_description":"Bad client credentials","error_code":"KOE010"}"#,
                ErrorCode::KakaoConfig,
            ),
            (
                401,
                r#"{"error":"invalid_client","error_description":"Not exist client_id [x]","error_code":"KOE101"}"#,
                ErrorCode::KakaoConfig,
            ),
            (
                400,
                r#"{"error":"invalid_request","error_description":"x","error_code":"KOE006"}"#,
                ErrorCode::KakaoConfig,
            ),
            (
                400,
                r#"{"error":"invalid_scope","error_description":"x","error_code":"KOE205"}"#,
                ErrorCode::KakaoConfig,
            ),
            (
                429,
                r#"{"error":"invalid_request","error_description":"token request rate limit exceeded","error_code":"KOE237"}"#,
                ErrorCode::RateLimited,
            ),
            (
                500,
                r#"{"error":"server_error","error_description":"x","error_code":"KOE003"}"#,
                ErrorCode::KakaoTemporary,
            ),
            (
                400,
                r#"{"error":"invalid_grant","error_description":"x"}"#,
                ErrorCode::SessionExpired,
            ),
        ];
        for (status, body, want) in cases {
            let error = from_error_body(status, body.as_bytes());
            assert_eq!(error.code(), want, "{body} must map to {want}");
            assert!(
                !format!("{error:?} {error}").contains("SECRET"),
                "descriptions are never kept"
            );
        }
    }

    #[test]
    fn kapi_codes_map_to_design_section_6() {
        let cases = [
            (
                r#"{"msg":"this access token does not exist","code":-401}"#,
                ErrorCode::SessionExpired,
                false,
            ),
            (
                r#"{"msg":"insufficient scopes.","code":-402,"required_scopes":["account_email"]}"#,
                ErrorCode::ConsentRequired,
                false,
            ),
            (
                r#"{"msg":"internal error","code":-1}"#,
                ErrorCode::KakaoTemporary,
                true,
            ),
            (r#"{"msg":"x","code":-7}"#, ErrorCode::KakaoTemporary, true),
            (
                r#"{"msg":"x","code":-603}"#,
                ErrorCode::KakaoTemporary,
                true,
            ),
            (
                r#"{"msg":"x","code":-9798}"#,
                ErrorCode::KakaoTemporary,
                true,
            ),
            (
                r#"{"msg":"API limit has been exceeded.","code":-10}"#,
                ErrorCode::RateLimited,
                false,
            ),
            (
                r#"{"msg":"x","code":-101}"#,
                ErrorCode::SessionExpired,
                false,
            ),
            (r#"{"msg":"x","code":-2}"#, ErrorCode::KakaoConfig, false),
        ];
        for (body, want, transient) in cases {
            let error = from_error_body(400, body.as_bytes());
            assert_eq!(error.code(), want, "{body} must map to {want}");
            assert_eq!(
                error.is_transient(),
                transient,
                "{body}: transient = {transient}"
            );
        }
        let consent = from_error_body(403, cases[1].0.as_bytes());
        assert_eq!(
            consent,
            KakaoError::Api {
                status: 403,
                code: -402,
                required_scopes: vec!["account_email".into()]
            },
            "-402 keeps the scopes to ask for"
        );
        assert!(
            from_error_body(401, cases[0].0.as_bytes()).is_invalid_token(),
            "-401 asks for a refresh"
        );
    }

    #[test]
    fn bodies_without_a_kakao_shape() {
        assert_eq!(
            from_error_body(502, b"<html>Bad Gateway</html>").code(),
            ErrorCode::KakaoTemporary
        );
        assert_eq!(
            from_error_body(500, br#"{"error":"serv"#).code(),
            ErrorCode::KakaoTemporary,
            "truncated 5xx"
        );
        assert_eq!(
            from_error_body(404, b"not found").code(),
            ErrorCode::KakaoConfig,
            "wrong base URL"
        );
        assert_eq!(from_error_body(429, b"").code(), ErrorCode::RateLimited);
        assert_eq!(
            KakaoError::Malformed { status: 200 }.code(),
            ErrorCode::KakaoTemporary,
            "truncated JSON"
        );
        assert_eq!(
            KakaoError::Network { timeout: true }.code(),
            ErrorCode::Network,
            "a hang is unreachable"
        );
        assert_eq!(
            KakaoError::Network { timeout: true }.kakao_code(),
            "timeout"
        );
    }
}

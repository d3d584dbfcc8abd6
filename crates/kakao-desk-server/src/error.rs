//! The server's errors: `{"code", "message"}` with a stable code.
//!
//! The code is the contract (the app maps each to its own Korean and English
//! message); the message is for the developer reading a log or a curl
//! answer, and never holds a token, a code or Kakao's own text (which can
//! echo the authorization code).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kakao_desk_core::ErrorCode;
use kakao_desk_core::kakao::KakaoError;
use kakao_desk_core::oidc::OidcError;
use serde::Serialize;

use crate::store::StoreError;
use crate::tokens::TokenError;

/// Every code the server answers with, and its HTTP status.
pub const CODES: &[(&str, u16)] = &[
    ("invalid_request", 400),
    ("redirect_uri_not_allowed", 400),
    ("code_rejected", 400),
    ("nonce_mismatch", 400),
    ("id_token_invalid", 400),
    ("unauthorized", 401),
    ("token_expired", 401),
    ("refresh_invalid", 401),
    ("refresh_reused", 401),
    ("session_ended", 401),
    ("consent_required", 403),
    ("not_found", 404),
    ("email_taken", 409),
    ("payload_too_large", 413),
    ("rate_limited", 429),
    ("internal", 500),
    ("kakao_bad_answer", 502),
    ("kakao_config", 502),
    ("kakao_unavailable", 503),
    ("kakao_rate_limited", 503),
    ("storage", 503),
    ("timeout", 503),
];

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The stable code.
    pub code: &'static str,
    /// For developers.
    pub message: &'static str,
    /// Seconds to wait, for `rate_limited`.
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body {
    code: &'static str,
    message: &'static str,
}

impl ApiError {
    const fn new(code: &'static str, message: &'static str) -> Self {
        Self {
            code,
            message,
            retry_after: None,
        }
    }

    /// The HTTP status of the code.
    pub fn status(&self) -> StatusCode {
        CODES
            .iter()
            .find(|(code, _)| *code == self.code)
            .and_then(|(_, status)| StatusCode::from_u16(*status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A request that is not what the endpoint takes.
    pub const fn invalid_request(message: &'static str) -> Self {
        Self::new("invalid_request", message)
    }

    /// An unexpected failure (details only in the log).
    pub const fn internal() -> Self {
        Self::new("internal", "an internal error occurred")
    }

    /// No valid access token.
    pub const fn unauthorized() -> Self {
        Self::new(
            "unauthorized",
            "send a valid access token: Authorization: Bearer <token>",
        )
    }

    /// The session is over: sign in again.
    pub const fn session_ended() -> Self {
        Self::new("session_ended", "the session has ended; sign in again")
    }

    /// Kakao answered something unreadable.
    pub const fn kakao_bad_answer() -> Self {
        Self::new("kakao_bad_answer", "Kakao's answer could not be read")
    }

    /// The refresh token is unknown, expired or malformed.
    pub const fn refresh_invalid() -> Self {
        Self::new(
            "refresh_invalid",
            "the refresh token is not valid; sign in again",
        )
    }

    /// A used refresh token came back: its session is ended.
    pub const fn refresh_reused() -> Self {
        Self::new(
            "refresh_reused",
            "the refresh token was already used; the session is ended, sign in again",
        )
    }

    /// The route does not exist.
    pub const fn not_found() -> Self {
        Self::new("not_found", "no such endpoint")
    }

    /// The body exceeded the limit.
    pub const fn payload_too_large() -> Self {
        Self::new("payload_too_large", "the request body is too large")
    }

    /// The request took longer than the server allows.
    pub const fn timeout() -> Self {
        Self::new("timeout", "the request took too long; try again")
    }

    /// Too many requests from this address.
    pub const fn rate_limited(retry_after: u64) -> Self {
        Self {
            code: "rate_limited",
            message: "too many requests; wait and try again",
            retry_after: Some(retry_after),
        }
    }

    /// The redirect URI is not one of the server's.
    pub const fn redirect_uri_not_allowed() -> Self {
        Self::new(
            "redirect_uri_not_allowed",
            "the redirect_uri is not one the server accepts",
        )
    }

    /// A Kakao failure outside the code exchange.
    pub fn from_kakao(error: KakaoError) -> Self {
        Self::kakao(
            &error,
            "session_ended",
            "Kakao no longer accepts the session's tokens; sign in again",
        )
    }

    /// A failure of the code exchange: a used, expired or forged code (or a
    /// verifier that does not match) is `code_rejected`.
    pub fn from_exchange(error: KakaoError) -> Self {
        Self::kakao(
            &error,
            "code_rejected",
            "Kakao refused the authorization code (used, expired, or not issued with this verifier); start the login again",
        )
    }

    fn kakao(error: &KakaoError, expired: &'static str, expired_message: &'static str) -> Self {
        tracing::info!(kakao_code = %error.kakao_code(), "Kakao call failed");
        if matches!(error, KakaoError::Malformed { .. }) {
            return Self::kakao_bad_answer();
        }
        match error.code() {
            ErrorCode::Network | ErrorCode::KakaoTemporary => {
                Self::new("kakao_unavailable", "Kakao could not be reached; try again")
            }
            ErrorCode::RateLimited => Self::new(
                "kakao_rate_limited",
                "Kakao's token quota for this user is used up; try again later",
            ),
            ErrorCode::SessionExpired => Self::new(expired, expired_message),
            ErrorCode::ConsentRequired => Self::new(
                "consent_required",
                "the user has not agreed to an item this needs",
            ),
            ErrorCode::KakaoConfig | ErrorCode::NotConfigured => Self::new(
                "kakao_config",
                "Kakao refused the server's app settings (client id, secret, redirect URI); see the server log",
            ),
            _ => Self::kakao_bad_answer(),
        }
    }

    /// An id_token that failed verification.
    pub fn from_oidc(error: &OidcError) -> Self {
        tracing::warn!(%error, "id_token refused");
        match error {
            OidcError::Fetch(e) => Self::from_kakao(e.clone()),
            OidcError::NonceMismatch => Self::new(
                "nonce_mismatch",
                "the id_token's nonce is not the one sent; start the login again",
            ),
            OidcError::Missing | OidcError::Audience | OidcError::Discovery => Self::new(
                "kakao_config",
                "Kakao's id_token does not fit the server's settings (OpenID Connect off, another app, another host)",
            ),
            _ => Self::new("id_token_invalid", "the id_token failed verification"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::EmailTaken => Self::new(
                "email_taken",
                "this Kakao account's email is already registered to another account; sign in the way that account was made",
            ),
            error => {
                tracing::error!(%error, "storage failed");
                Self::new("storage", "the server's database failed; try again")
            }
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Invalid => Self::unauthorized(),
            TokenError::Expired => {
                Self::new("token_expired", "the access token has expired; refresh it")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (
            status,
            Json(Body {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_with_its_status() {
        let mut seen = std::collections::HashSet::new();
        for (code, status) in CODES {
            assert!(seen.insert(code), "{code} twice");
            assert!(StatusCode::from_u16(*status).is_ok());
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        for error in [
            ApiError::internal(),
            ApiError::unauthorized(),
            ApiError::session_ended(),
            ApiError::kakao_bad_answer(),
            ApiError::refresh_invalid(),
            ApiError::refresh_reused(),
            ApiError::not_found(),
            ApiError::payload_too_large(),
            ApiError::timeout(),
            ApiError::rate_limited(1),
            ApiError::redirect_uri_not_allowed(),
            ApiError::from(StoreError::EmailTaken),
            ApiError::from(TokenError::Expired),
            ApiError::from_exchange(KakaoError::Network { timeout: false }),
        ] {
            assert!(
                CODES.iter().any(|(code, _)| *code == error.code),
                "{} is not listed",
                error.code
            );
        }
    }
}

//! Backend mode: the app's client of the publisher's `kakao-desk-server`
//! (README, "Backend mode").
//!
//! The browser step is the same as in direct mode; the code and its PKCE
//! verifier then go to the server (`POST /v1/auth/kakao`), which exchanges
//! them with Kakao and answers with the *service's* tokens and the user.
//! Kakao's tokens never reach the app. Every access token the server
//! issues is verified here before it is kept: `alg: EdDSA`, a `kid` of the
//! server's JWKS (fetched on an unknown `kid`, at most every
//! [`JWKS_REFETCH`]), the server's URL as issuer, the configured audience,
//! and an expiry in the future. The session record keeps the service's
//! tokens where direct mode keeps Kakao's, so the session machinery
//! (refresh on expiry and on 401, single-flight, sign-out when the refresh
//! token is refused) is the same code.
//!
//! The server's errors come back as [`KakaoError::Backend`], whose
//! [`KakaoError::code`] maps the server's stable codes to the app's.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, RequestBuilder};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use url::Url;
use zeroize::Zeroizing;

use crate::birthday::{Birthday, Calendar};
use crate::config::{BackendConfig, RedirectUri};
use crate::kakao::{
    ClientBuildError, ClientOptions, KakaoError, MAX_JSON_BYTES, TokenSet, http_client, read_capped,
};
use crate::profile::{ConsentItem, KakaoId, KakaoProfile};
use crate::secret::{AccessToken, AuthorizationCode, Nonce, PkceVerifier, RefreshToken};

/// Shortest wait between two JWKS fetches caused by an unknown `kid`.
pub const JWKS_REFETCH: Duration = Duration::from_secs(10);

/// Whether a token answer whose access token does not verify is refused.
#[derive(Debug, Clone, Copy)]
enum Strict {
    /// A login: nothing is kept.
    Yes,
    /// A refresh: the rotated refresh token is kept.
    No,
}

/// A finished backend login.
#[derive(Debug)]
pub struct BackendLogin {
    /// The service's tokens, in the shape the session record keeps.
    pub tokens: TokenSet,
    /// The user as the server stores it.
    pub profile: KakaoProfile,
    /// Whether this login created the account (sign-up).
    pub created: bool,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

/// A client of one backend server.
pub struct BackendClient {
    http: reqwest::Client,
    config: BackendConfig,
    keys: Mutex<Keys>,
}

impl std::fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendClient")
            .field("url", &self.config.url.url().as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
    refresh_token: String,
    refresh_token_expires_in: u64,
    #[serde(default)]
    created: bool,
    #[serde(default)]
    user: Option<UserAnswer>,
}

#[derive(Deserialize)]
struct MeAnswer {
    user: UserAnswer,
    /// The server could not reach Kakao and answered with what it stored.
    #[serde(default)]
    stale: bool,
}

/// `GET /v1/me`'s answer.
#[derive(Debug)]
pub struct BackendMe {
    /// The user.
    pub profile: KakaoProfile,
    /// The server answered from its store because Kakao was unreachable.
    pub stale: bool,
}

#[derive(Deserialize)]
struct UserAnswer {
    kakao_id: Option<String>,
    nickname: Option<String>,
    thumbnail_url: Option<String>,
    profile_image_url: Option<String>,
    #[serde(default)]
    is_default_image: bool,
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
    birthday: Option<BirthdayAnswer>,
    #[serde(default)]
    needs_agreement: Vec<String>,
}

#[derive(Deserialize)]
struct BirthdayAnswer {
    date: String,
    calendar: Calendar,
    #[serde(default)]
    leap_month: bool,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    code: String,
}

#[derive(Deserialize)]
struct ServiceClaims {
    exp: i64,
    iat: i64,
}

fn failure(status: u16, code: &str) -> KakaoError {
    KakaoError::Backend {
        status,
        code: code.to_owned(),
    }
}

/// An absolute http(s) URL, or nothing.
fn image_url(raw: Option<String>) -> Option<Url> {
    let url = Url::parse(&raw?).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

impl UserAnswer {
    /// The user as the profile the app caches; `None` without a Kakao id.
    fn into_profile(self) -> Option<KakaoProfile> {
        let id: KakaoId = self.kakao_id?.parse().ok()?;
        let mut profile = KakaoProfile::new(id);
        profile.nickname = self.nickname.filter(|n| !n.trim().is_empty());
        profile.thumbnail_url = image_url(self.thumbnail_url);
        profile.profile_image_url = image_url(self.profile_image_url);
        profile.is_default_image = self.is_default_image;
        profile.email = self.email.filter(|e| !e.trim().is_empty());
        profile.email_verified = profile.email.is_some() && self.email_verified;
        // The server applied the same rules; a date that does not parse here
        // is dropped, as a Kakao one would be.
        profile.birthday = self
            .birthday
            .and_then(|b| Birthday::from_iso(&b.date, b.calendar, b.leap_month).ok());
        profile.needs_agreement = self
            .needs_agreement
            .iter()
            .filter_map(|scope| ConsentItem::from_scope(scope))
            .collect();
        Some(profile)
    }
}

impl BackendClient {
    /// A client of the server in `config`.
    ///
    /// # Errors
    /// [`ClientBuildError`] when TLS cannot be set up.
    pub fn new(config: &BackendConfig, options: ClientOptions) -> Result<Self, ClientBuildError> {
        crate::jwt::install_crypto();
        Ok(Self {
            http: http_client(options)?,
            config: config.clone(),
            keys: Mutex::new(Keys::default()),
        })
    }

    /// Hands the login's code and verifier to the server; its tokens
    /// (verified) and the user.
    ///
    /// # Errors
    /// The server's refusal ([`KakaoError::Backend`]): `code_rejected`,
    /// `email_taken`, `kakao_unavailable`, …; an access token that does not
    /// verify is `bad_token`.
    pub async fn login(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
        redirect_uri: &RedirectUri,
        nonce: &Nonce,
    ) -> Result<BackendLogin, KakaoError> {
        let body = Zeroizing::new(
            serde_json::json!({
                "code": code.secret(),
                "code_verifier": verifier.secret(),
                "redirect_uri": redirect_uri.as_str(),
                "nonce": nonce.secret(),
            })
            .to_string(),
        );
        let request = self
            .http
            .post(self.config.url.endpoint("/v1/auth/kakao"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let mut answer: TokenAnswer = self.send(request, "/v1/auth/kakao").await?;
        let profile = answer
            .user
            .take()
            .and_then(UserAnswer::into_profile)
            .ok_or_else(|| failure(200, "bad_answer"))?;
        let created = answer.created;
        let tokens = self.tokens(answer, Strict::Yes).await?;
        tracing::debug!(created, "the backend finished the login");
        Ok(BackendLogin {
            tokens,
            profile,
            created,
        })
    }

    /// Rotates the service's refresh token (`POST /v1/auth/refresh`).
    ///
    /// # Errors
    /// `refresh_reused`, `refresh_invalid`, `session_ended` (all
    /// [`crate::ErrorCode::SessionExpired`]), or the server unreachable.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, KakaoError> {
        let body = Zeroizing::new(
            serde_json::json!({ "refresh_token": refresh_token.secret() }).to_string(),
        );
        let request = self
            .http
            .post(self.config.url.endpoint("/v1/auth/refresh"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let answer: TokenAnswer = self.send(request, "/v1/auth/refresh").await?;
        self.tokens(answer, Strict::No).await
    }

    /// The user, as the server has it now (`GET /v1/me`).
    ///
    /// # Errors
    /// `token_expired` (a refresh may help), the server's other refusals.
    pub async fn me(&self, token: &AccessToken) -> Result<BackendMe, KakaoError> {
        let request = self
            .http
            .request(Method::GET, self.config.url.endpoint("/v1/me"))
            .bearer_auth(token.secret());
        let answer: MeAnswer = self.send(request, "/v1/me").await?;
        let stale = answer.stale;
        let profile = answer
            .user
            .into_profile()
            .ok_or_else(|| failure(200, "bad_answer"))?;
        Ok(BackendMe { profile, stale })
    }

    /// Ends the service session; the server logs out at Kakao.
    ///
    /// # Errors
    /// The server's refusal.
    pub async fn logout(&self, token: &AccessToken) -> Result<(), KakaoError> {
        let request = self
            .http
            .post(self.config.url.endpoint("/v1/auth/logout"))
            .bearer_auth(token.secret());
        let _: serde_json::Value = self.send(request, "/v1/auth/logout").await?;
        Ok(())
    }

    /// Unlinks at Kakao and deletes the account (`DELETE /v1/me`).
    ///
    /// # Errors
    /// The server's refusal; nothing is deleted then.
    pub async fn delete_me(&self, token: &AccessToken) -> Result<(), KakaoError> {
        let request = self
            .http
            .request(Method::DELETE, self.config.url.endpoint("/v1/me"))
            .bearer_auth(token.secret());
        let _: serde_json::Value = self.send(request, "/v1/me").await?;
        Ok(())
    }

    /// Verifies the answer's access token and turns the answer into the
    /// session record's shape. After a refresh ([`Strict::No`]) the server
    /// has already used up the old refresh token, so the new one is kept
    /// even when the access token does not verify (the JWKS unreachable, a
    /// rotation not yet published): the access token is then treated as
    /// expired, and the next call refreshes again.
    async fn tokens(&self, answer: TokenAnswer, strict: Strict) -> Result<TokenSet, KakaoError> {
        let believable = |secs: u64| (1..=crate::kakao::MAX_TOKEN_LIFETIME_SECS).contains(&secs);
        if answer.access_token.is_empty()
            || answer.refresh_token.is_empty()
            || !believable(answer.expires_in)
            || !believable(answer.refresh_token_expires_in)
        {
            return Err(failure(200, "bad_answer"));
        }
        let expires_in = match (self.verify(&answer.access_token).await, strict) {
            (Ok(()), _) => answer.expires_in,
            (Err(error), Strict::Yes) => return Err(error),
            (Err(error), Strict::No) => {
                tracing::warn!(code = %error.kakao_code(), "keeping the rotated refresh token although the access token did not verify");
                1
            }
        };
        Ok(TokenSet {
            access_token: AccessToken::new(answer.access_token),
            expires_in,
            refresh_token: Some(RefreshToken::new(answer.refresh_token)),
            refresh_token_expires_in: Some(answer.refresh_token_expires_in),
            id_token: None,
            scope: None,
        })
    }

    /// Verifies a service access token with the server's JWKS. The expiry is
    /// checked against the token's own `iat`, not this device's clock (a
    /// clock minutes off must not refuse every login); the app follows the
    /// answer's `expires_in` from its own clock.
    async fn verify(&self, token: &str) -> Result<(), KakaoError> {
        let bad = || {
            tracing::warn!("the backend's access token failed verification");
            failure(200, "bad_token")
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad())?;
        if header.alg != Algorithm::EdDSA {
            return Err(bad());
        }
        let kid = header.kid.ok_or_else(bad)?;
        let mut keys = self.keys.lock().await;
        if !keys.by_kid.contains_key(&kid)
            && keys.fetched.is_none_or(|at| at.elapsed() >= JWKS_REFETCH)
        {
            // Counted before the fetch, so that failures are paced too.
            keys.fetched = Some(Instant::now());
            let request = self
                .http
                .get(self.config.url.endpoint("/.well-known/jwks.json"));
            let set: JwkSet = self.send(request, "/.well-known/jwks.json").await?;
            keys.by_kid = set
                .keys
                .iter()
                .filter_map(|jwk| {
                    let kid = jwk.common.key_id.clone()?;
                    match &jwk.algorithm {
                        AlgorithmParameters::OctetKeyPair(okp)
                            if okp.curve == EllipticCurve::Ed25519 =>
                        {
                            DecodingKey::from_ed_components(&okp.x)
                                .ok()
                                .map(|key| (kid, key))
                        }
                        _ => None,
                    }
                })
                .collect();
            tracing::debug!(keys = keys.by_kid.len(), "fetched the backend's JWKS");
        }
        let key = keys.by_kid.get(&kid).ok_or_else(bad)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.set_issuer(&[self.config.issuer()]);
        validation.set_audience(&[&self.config.audience]);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iat", "iss", "aud", "sub"]
            .map(str::to_owned)
            .into();
        let claims = jsonwebtoken::decode::<ServiceClaims>(token, key, &validation)
            .map_err(|_| bad())?
            .claims;
        let lifetime = claims.exp.saturating_sub(claims.iat);
        let longest = i64::try_from(crate::kakao::MAX_TOKEN_LIFETIME_SECS).unwrap_or(i64::MAX);
        if lifetime <= 0 || lifetime > longest {
            return Err(bad());
        }
        Ok(())
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        endpoint: &'static str,
    ) -> Result<T, KakaoError> {
        let response = request.send().await.map_err(|e| {
            tracing::info!(
                endpoint,
                timeout = e.is_timeout(),
                "the backend could not be reached"
            );
            failure(
                0,
                if e.is_timeout() {
                    "timeout"
                } else {
                    "unreachable"
                },
            )
        })?;
        let status = response.status().as_u16();
        let body = read_capped(response, MAX_JSON_BYTES)
            .await
            .map_err(|error| match error {
                KakaoError::Network { timeout: true } => failure(0, "timeout"),
                KakaoError::TooLarge { .. } => failure(status, "bad_answer"),
                _ => failure(0, "unreachable"),
            })?;
        tracing::debug!(endpoint, status, "the backend answered");
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|_| failure(status, "bad_answer"));
        }
        let code = serde_json::from_slice::<ErrorAnswer>(&body)
            .map(|e| e.code)
            .unwrap_or_else(|_| format!("http_{status}"));
        tracing::info!(endpoint, status, code = %code, "the backend refused");
        Err(KakaoError::Backend { status, code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_user_becomes_the_apps_profile() {
        let user: UserAnswer = serde_json::from_value(serde_json::json!({
            "id": "1", "kakao_id": "1376016924426111111", "nickname": "박양력",
            "thumbnail_url": "https://k.kakaocdn.net/t.jpg", "profile_image_url": "javascript:alert(1)",
            "is_default_image": false, "email": "a@example.com", "email_verified": true,
            "birthday": {"date": "0000-02-29", "year_known": false, "calendar": "solar", "leap_month": false},
            "needs_agreement": ["birthday", "no_such_scope"],
        }))
        .expect("the server's shape");
        let profile = user.into_profile().expect("a profile");
        assert_eq!(profile.id.get(), 1_376_016_924_426_111_111);
        assert_eq!(profile.nickname.as_deref(), Some("박양력"));
        assert!(profile.thumbnail_url.is_some());
        assert!(profile.profile_image_url.is_none(), "only http(s) images");
        assert!(profile.email_verified);
        assert_eq!(
            profile.birthday.map(|b| b.to_iso()).as_deref(),
            Some("0000-02-29")
        );
        assert_eq!(
            profile.needs_agreement.iter().copied().collect::<Vec<_>>(),
            vec![ConsentItem::Birthday]
        );
        let anonymous: UserAnswer =
            serde_json::from_value(serde_json::json!({"kakao_id": null})).expect("shape");
        assert!(
            anonymous.into_profile().is_none(),
            "a user without a Kakao id"
        );
    }

    #[test]
    fn the_servers_codes_become_the_apps() {
        use crate::ErrorCode;
        for (status, code, expected, unreachable, invalid_token) in [
            (401, "token_expired", ErrorCode::SessionExpired, false, true),
            (
                401,
                "refresh_reused",
                ErrorCode::SessionExpired,
                false,
                false,
            ),
            (
                400,
                "code_rejected",
                ErrorCode::SessionExpired,
                false,
                false,
            ),
            (409, "email_taken", ErrorCode::AccountConflict, false, false),
            (
                503,
                "kakao_unavailable",
                ErrorCode::KakaoTemporary,
                true,
                false,
            ),
            (0, "unreachable", ErrorCode::ServerUnavailable, true, false),
            (502, "http_502", ErrorCode::ServerUnavailable, true, false),
            (
                400,
                "redirect_uri_not_allowed",
                ErrorCode::ServerConfig,
                false,
                false,
            ),
            (429, "rate_limited", ErrorCode::RateLimited, false, false),
        ] {
            let error = failure(status, code);
            assert_eq!(error.code(), expected, "{code}");
            assert_eq!(error.is_unreachable(), unreachable, "{code}");
            assert_eq!(error.is_invalid_token(), invalid_token, "{code}");
            assert!(!error.to_string().is_empty());
        }
    }
}

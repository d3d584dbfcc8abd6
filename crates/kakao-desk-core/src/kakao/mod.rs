//! The Kakao HTTP client: kauth (tokens, OIDC) and kapi (user APIs).
//!
//! One `reqwest` client with rustls (ring), redirects off (a redirect from a
//! token endpoint is never legitimate and would carry the request elsewhere),
//! and ~10 s timeouts (`docs/kakao-api.md` §8). Every answer is read with a size cap, and
//! every failure becomes a [`KakaoError`] that keeps Kakao's code for logs and
//! maps to a stable [`crate::ErrorCode`]. Nothing here logs a body, a token or
//! a code.

mod error;
mod types;
pub mod user_me;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode, redirect};
use serde::de::DeserializeOwned;
use thiserror::Error;
use url::Url;
use zeroize::Zeroizing;

pub use error::KakaoError;
pub use types::{
    AccessTokenInfo, Discovery, MAX_TOKEN_LIFETIME_SECS, ScopeInfo, ScopesAnswer, TokenSet,
};
use user_me::UserMeResponse;

use crate::ErrorCode;
use crate::config::{BaseUrl, Config, RedirectUri, is_loopback_host};
use crate::secret::{AccessToken, AuthorizationCode, ClientSecret, PkceVerifier, RefreshToken};

/// Largest JSON answer read from Kakao. Real answers are a few KiB.
pub const MAX_JSON_BYTES: usize = 256 * 1024;

/// Largest HTML page [`KakaoClient::page`] reads.
pub const MAX_PAGE_BYTES: usize = 512 * 1024;

/// A page as [`KakaoClient::page`] read it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    /// The body (lossily decoded as UTF-8).
    pub body: String,
}

/// Timeouts and retry pacing of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Whole-request timeout (connect, send, and read the answer).
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// The shortest wait before the one retry of a transient failure.
    pub retry_delay: Duration,
    /// Random extra wait (0..jitter) added to `retry_delay`, so many clients
    /// hit by one Kakao incident do not retry in lockstep.
    pub retry_jitter: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retry_delay: Duration::from_millis(300),
            retry_jitter: Duration::from_millis(700),
        }
    }
}

/// The HTTP client could not be built (no TLS provider, no TLS roots).
#[derive(Debug, Error)]
#[error("the HTTP client could not be built")]
pub struct ClientBuildError(#[source] reqwest::Error);

impl ClientBuildError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}

/// A client of one Kakao app.
#[derive(Debug, Clone)]
pub struct KakaoClient {
    http: reqwest::Client,
    auth: BaseUrl,
    api: BaseUrl,
    client_id: String,
    client_secret: Option<ClientSecret>,
    options: ClientOptions,
}

impl KakaoClient {
    /// A client for the app in `config`.
    ///
    /// # Errors
    /// [`ClientBuildError`] when TLS cannot be set up.
    pub fn new(config: &Config, options: ClientOptions) -> Result<Self, ClientBuildError> {
        Ok(Self {
            http: http_client(options)?,
            auth: config.auth_base_url.clone(),
            api: config.api_base_url.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            options,
        })
    }

    /// The pacing this client was built with.
    pub fn options(&self) -> ClientOptions {
        self.options
    }

    /// Exchanges an authorization code for tokens
    /// ([RFC 6749 §4.1.3], [RFC 7636 §4.5], `docs/kakao-api.md` §3.1). Never retried: a
    /// code is single-use, and a retry after a lost answer would only earn
    /// KOE320 and spend the issuance quota.
    ///
    /// [RFC 6749 §4.1.3]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
    /// [RFC 7636 §4.5]: https://www.rfc-editor.org/rfc/rfc7636#section-4.5
    ///
    /// # Errors
    /// A [`KakaoError`] (KOE320 for a used code or a wrong verifier, KOE303,
    /// KOE101, KOE010, KOE237, …).
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
        redirect_uri: &RedirectUri,
    ) -> Result<TokenSet, KakaoError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code", code.secret()),
            ("code_verifier", verifier.secret()),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.secret()));
        }
        self.token_request(&form, "authorization_code").await
    }

    /// Refreshes the access token ([RFC 6749 §6], `docs/kakao-api.md` §3.2).
    ///
    /// [RFC 6749 §6]: https://www.rfc-editor.org/rfc/rfc6749#section-6
    ///
    /// # Errors
    /// A [`KakaoError`]; KOE322 means the refresh token is gone.
    pub async fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, KakaoError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("refresh_token", refresh_token.secret()),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.secret()));
        }
        self.token_request(&form, "refresh_token").await
    }

    async fn token_request(
        &self,
        form: &[(&str, &str)],
        grant: &'static str,
    ) -> Result<TokenSet, KakaoError> {
        let request = self
            .http
            .post(self.auth.endpoint("/oauth/token"))
            .form(form);
        let (status, body) = self.send(request, "/oauth/token", MAX_JSON_BYTES).await?;
        let tokens = decode_token_answer(status.as_u16(), &body)?;
        tracing::debug!(grant, "Kakao issued tokens");
        Ok(tokens)
    }

    /// `GET /v2/user/me?secure_resource=true` (`docs/kakao-api.md` §4): https image URLs.
    ///
    /// # Errors
    /// A [`KakaoError`]; -401 means the access token needs a refresh.
    pub async fn user_me(&self, token: &AccessToken) -> Result<UserMeResponse, KakaoError> {
        self.get_with_token("/v2/user/me", &[("secure_resource", "true")], token)
            .await
    }

    /// `GET /v1/user/access_token_info` (`docs/kakao-api.md` §5.1).
    ///
    /// # Errors
    /// A [`KakaoError`]; -401 means the access token needs a refresh.
    pub async fn access_token_info(
        &self,
        token: &AccessToken,
    ) -> Result<AccessTokenInfo, KakaoError> {
        self.get_with_token("/v1/user/access_token_info", &[], token)
            .await
    }

    /// `POST /v1/user/logout` (`docs/kakao-api.md` §5.2): revokes the token at Kakao.
    ///
    /// # Errors
    /// A [`KakaoError`].
    pub async fn logout(&self, token: &AccessToken) -> Result<(), KakaoError> {
        self.post_with_token("/v1/user/logout", token).await
    }

    /// `POST /v1/user/unlink` (`docs/kakao-api.md` §5.4): withdraws the app's consent.
    ///
    /// # Errors
    /// A [`KakaoError`].
    pub async fn unlink(&self, token: &AccessToken) -> Result<(), KakaoError> {
        self.post_with_token("/v1/user/unlink", token).await
    }

    /// `GET /v2/user/scopes` (`docs/kakao-api.md` §5.5): the consent items
    /// and whether the user agreed.
    ///
    /// # Errors
    /// A [`KakaoError`]; -401 means the access token needs a refresh.
    pub async fn user_scopes(&self, token: &AccessToken) -> Result<ScopesAnswer, KakaoError> {
        self.get_with_token("/v2/user/scopes", &[], token).await
    }

    /// `POST /v2/user/revoke/scopes` with `scopes=["…"]` (§5.5): withdraws
    /// optional consent items. The tokens stay valid.
    ///
    /// # Errors
    /// A [`KakaoError`] (`-3` for a required item, `-2` for an unknown one).
    pub async fn revoke_scopes(
        &self,
        token: &AccessToken,
        scopes: &[String],
    ) -> Result<ScopesAnswer, KakaoError> {
        let list = serde_json::to_string(scopes).unwrap_or_else(|_| "[]".to_owned());
        let request = self
            .http
            .post(self.api.endpoint("/v2/user/revoke/scopes"))
            .form(&[("scopes", list.as_str())])
            .bearer_auth(token.secret());
        let (status, body) = self
            .send(request, "/v2/user/revoke/scopes", MAX_JSON_BYTES)
            .await?;
        parse(status, &body)
    }

    /// A bearer `GET` of a kapi JSON resource.
    async fn get_with_token<T: serde::de::DeserializeOwned>(
        &self,
        path: &'static str,
        query: &[(&str, &str)],
        token: &AccessToken,
    ) -> Result<T, KakaoError> {
        let request = self
            .http
            .get(self.api.endpoint(path))
            .query(query)
            .bearer_auth(token.secret());
        let (status, body) = self.send(request, path, MAX_JSON_BYTES).await?;
        parse(status, &body)
    }

    async fn post_with_token(
        &self,
        path: &'static str,
        token: &AccessToken,
    ) -> Result<(), KakaoError> {
        let request = self
            .http
            .request(Method::POST, self.api.endpoint(path))
            .bearer_auth(token.secret());
        let (status, body) = self.send(request, path, MAX_JSON_BYTES).await?;
        parse::<serde_json::Value>(status, &body).map(|_| ())
    }

    /// The OIDC discovery document at the auth base URL (`docs/kakao-api.md` §7.1).
    ///
    /// # Errors
    /// A [`KakaoError`].
    pub async fn discovery(&self) -> Result<Discovery, KakaoError> {
        let path = "/.well-known/openid-configuration";
        let (status, body) = self
            .send(
                self.http.get(self.auth.endpoint(path)),
                path,
                MAX_JSON_BYTES,
            )
            .await?;
        parse(status, &body)
    }

    /// The JWKS at `url` (from discovery; `docs/kakao-api.md` §7.2). Only https, or http
    /// on loopback, is fetched.
    ///
    /// # Errors
    /// A [`KakaoError`]; an insecure URL is [`KakaoError::Status`] 0.
    pub async fn jwks(&self, url: &Url) -> Result<jsonwebtoken::jwk::JwkSet, KakaoError> {
        if !is_secure(url) {
            return Err(KakaoError::Status { status: 0 });
        }
        let (status, body) = self
            .send(self.http.get(url.clone()), "jwks", MAX_JSON_BYTES)
            .await?;
        parse(status, &body)
    }

    /// Downloads an image (the profile thumbnail) of at most `limit` bytes.
    /// No `Authorization` header: images live on a CDN. Returns the content
    /// type and the bytes.
    ///
    /// # Errors
    /// A [`KakaoError`]: [`KakaoError::TooLarge`] past `limit`, and
    /// [`KakaoError::Status`] 0 for a URL that is neither https nor loopback.
    pub async fn image(&self, url: &Url, limit: usize) -> Result<(String, Vec<u8>), KakaoError> {
        if !is_secure(url) {
            return Err(KakaoError::Status { status: 0 });
        }
        let response = self.http.get(url.clone()).send().await.map_err(network)?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = read_capped(response, limit).await?;
        if !status.is_success() {
            return Err(KakaoError::Status {
                status: status.as_u16(),
            });
        }
        Ok((content_type, body.to_vec()))
    }

    /// Fetches a page without following redirects, for the configuration
    /// doctor: Kakao's authorize endpoint (which answers a wrong set-up with
    /// an error page instead of a redirect) and the bridge page. Returns the
    /// status, the `Location` header and at most [`MAX_PAGE_BYTES`] of body.
    /// Only https, or http on loopback, is fetched.
    ///
    /// # Errors
    /// A [`KakaoError`]; an insecure URL is [`KakaoError::Status`] 0.
    pub async fn page(&self, url: &Url) -> Result<Page, KakaoError> {
        if !is_secure(url) {
            return Err(KakaoError::Status { status: 0 });
        }
        let response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/html")
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_capped(response, MAX_PAGE_BYTES).await?;
        Ok(Page {
            status,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Runs `op` and, when it fails with a transient error, once more after a
    /// jittered pause (`docs/kakao-api.md` §8). Only for calls that are safe
    /// to repeat.
    ///
    /// # Errors
    /// The second attempt's error, or the first one's when it is not
    /// transient.
    pub async fn retry_once<T, F, Fut>(
        &self,
        what: &'static str,
        mut op: F,
    ) -> Result<T, KakaoError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, KakaoError>>,
    {
        match op().await {
            Err(error) if error.is_transient() => {
                let pause = self.options.retry_delay + jitter(self.options.retry_jitter);
                tracing::info!(what, kakao_code = %error.kakao_code(), ?pause, "transient Kakao failure; retrying once");
                tokio::time::sleep(pause).await;
                op().await
            }
            other => other,
        }
    }

    async fn send(
        &self,
        request: RequestBuilder,
        endpoint: &'static str,
        limit: usize,
    ) -> Result<(StatusCode, Zeroizing<Vec<u8>>), KakaoError> {
        let response = request.send().await.map_err(|e| {
            let error = network(e);
            tracing::info!(endpoint, kakao_code = %error.kakao_code(), "Kakao request failed");
            error
        })?;
        let status = response.status();
        let body = read_capped(response, limit).await?;
        tracing::debug!(endpoint, status = status.as_u16(), "Kakao answered");
        Ok((status, body))
    }
}

fn parse<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Result<T, KakaoError> {
    decode_answer(status.as_u16(), body)
}

/// Decodes one Kakao answer as the client does: a 2xx body as `T`, any other
/// status as the error body of either host (`docs/kakao-api.md` §6). Public
/// so that the fuzz targets and tests drive the code the client runs.
///
/// # Errors
/// [`KakaoError::Malformed`] for a 2xx body that is not a `T`, else the
/// error the body (or its absence) describes.
pub fn decode_answer<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, KakaoError> {
    if (200..300).contains(&status) {
        serde_json::from_slice(body).map_err(|_| KakaoError::Malformed { status })
    } else {
        Err(error::from_error_body(status, body))
    }
}

/// Decodes an answer of the token endpoint (code exchange or refresh) into
/// tokens with checked lifetimes, as the client does.
///
/// # Errors
/// As [`decode_answer`], and [`KakaoError::Malformed`] for a token answer
/// whose lifetimes are missing, zero or absurd.
pub fn decode_token_answer(status: u16, body: &[u8]) -> Result<TokenSet, KakaoError> {
    let raw: types::RawTokenSet = decode_answer(status, body)?;
    raw.into_tokens().ok_or(KakaoError::Malformed { status })
}

/// The HTTP client of every call the app makes (Kakao, and the backend
/// server in backend mode): rustls on ring, redirects off, `options`'
/// timeouts.
///
/// # Errors
/// [`ClientBuildError`] when TLS cannot be set up.
pub(crate) fn http_client(options: ClientOptions) -> Result<reqwest::Client, ClientBuildError> {
    // reqwest is built with `rustls-no-provider`: install ring as the
    // process default unless something else already installed one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .timeout(options.timeout)
        .connect_timeout(options.connect_timeout)
        .user_agent(concat!("kakao-desk/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(ClientBuildError)
}

/// Reads a body of at most `limit` bytes.
///
/// # Errors
/// [`KakaoError::TooLarge`] past the limit; [`KakaoError::Network`] on a
/// timeout mid-body; [`KakaoError::Malformed`] when the connection dies.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, KakaoError> {
    let status = response.status().as_u16();
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(KakaoError::TooLarge { limit });
    }
    let mut body = Zeroizing::new(Vec::new());
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(KakaoError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(KakaoError::Network { timeout: true }),
            // The connection died mid-body: what arrived is unusable.
            Err(_) => return Err(KakaoError::Malformed { status }),
        }
    }
}

fn network(error: reqwest::Error) -> KakaoError {
    KakaoError::Network {
        timeout: error.is_timeout(),
    }
}

fn is_secure(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(url))
}

/// A random duration in `0..max` from the OS RNG (zero if it fails: jitter is
/// a courtesy, not a security property).
fn jitter(max: Duration) -> Duration {
    let millis = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return Duration::ZERO;
    }
    let mut bytes = [0_u8; 8];
    let _ = getrandom::fill(&mut bytes);
    Duration::from_millis(u64::from_le_bytes(bytes) % millis)
}

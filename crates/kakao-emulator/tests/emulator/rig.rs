//! The one rig of the emulator's tests: a started emulator, an HTTP client
//! with redirects off, PKCE values, and the requests every test makes.

use std::error::Error;
use std::time::{Duration, UNIX_EPOCH};

use kakao_emulator::{Clock, EmulatorConfig, RunningEmulator, fixture_ids};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{IntoUrl, Response};

/// What a test returns: `?` on any step that must work.
pub type TestResult<T = ()> = Result<T, Box<dyn Error + Send + Sync>>;

/// The registered loopback redirect URI every test uses.
pub const REDIRECT_URI: &str = "http://127.0.0.1:53682/oauth/callback";

/// Kakao's JSON content type, exactly.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// RFC 7636 Appendix B: this verifier hashes to this challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A fixed instant, so lifetimes in answers are exact.
pub const T0: u64 = 1_763_900_000;

/// A config with the test redirect URI, auto-consent for the 19-digit user and
/// a frozen clock at [`T0`].
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        redirect_uris: vec![REDIRECT_URI.to_owned()],
        auto_consent: Some(fixture_ids::NINETEEN_DIGIT_ID),
        clock: Clock::fixed(UNIX_EPOCH + Duration::from_secs(T0)),
        ..EmulatorConfig::default()
    }
}

pub async fn emulator() -> TestResult<RunningEmulator> {
    start(config()).await
}

pub async fn start(config: EmulatorConfig) -> TestResult<RunningEmulator> {
    Ok(kakao_emulator::start(config).await?)
}

/// reqwest with redirects off (a login client must read `Location` itself).
pub fn client() -> TestResult<reqwest::Client> {
    Ok(client_builder().build()?)
}

/// `GET url` with redirects off.
pub async fn get(url: impl IntoUrl) -> TestResult<Response> {
    Ok(client()?.get(url).send().await?)
}

/// `GET url`, which must answer `302`: the `Location` it redirects to.
pub async fn redirect_of(url: impl IntoUrl, why: &str) -> TestResult<String> {
    let response = get(url).await?;
    assert_eq!(response.status(), 302, "{why}");
    location(response.headers())
}

/// The builder behind [`client`], for tests that add a timeout.
pub fn client_builder() -> reqwest::ClientBuilder {
    // reqwest is built with rustls but no provider; plain http needs none,
    // yet the builder wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

/// The authorize URL with PKCE, state and nonce; `extra` appended raw.
pub fn authorize_url(emulator: &RunningEmulator, extra: &str) -> String {
    format!(
        "{}/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S256&state=st-1&nonce=n-1{extra}",
        emulator.base_url(),
        emulator.client_id(),
        enc(REDIRECT_URI),
    )
}

pub fn enc(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub fn location(headers: &HeaderMap) -> TestResult<String> {
    Ok(headers
        .get(LOCATION)
        .ok_or_else(|| format!("a Location header was expected: {headers:?}"))?
        .to_str()?
        .to_owned())
}

pub fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// One query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Runs authorize (auto-consent) and returns the code.
pub async fn authorize_code(emulator: &RunningEmulator) -> TestResult<String> {
    let redirect = redirect_of(
        authorize_url(emulator, ""),
        "auto-consent answers authorize with a redirect",
    )
    .await?;
    Ok(query_param(&redirect, "code").ok_or("no code in the redirect")?)
}

/// An answer as the tests read it: status, headers and JSON body.
pub type JsonAnswer = (u16, HeaderMap, serde_json::Value);

/// POSTs a form to the token endpoint.
pub async fn post_token(
    emulator: &RunningEmulator,
    form: &[(&str, &str)],
) -> TestResult<JsonAnswer> {
    let response = client()?
        .post(emulator.url("/oauth/token"))
        .form(form)
        .send()
        .await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Ok((status, headers, response.json().await?))
}

/// Exchanges a code with the test redirect URI and verifier.
pub async fn exchange(emulator: &RunningEmulator, code: &str) -> TestResult<JsonAnswer> {
    post_token(
        emulator,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", emulator.client_id()),
            ("redirect_uri", REDIRECT_URI),
            ("code", code),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

/// Logs the auto-consent user in; returns the token response.
pub async fn login(emulator: &RunningEmulator) -> TestResult<serde_json::Value> {
    let code = authorize_code(emulator).await?;
    let (status, _, body) = exchange(emulator, &code).await?;
    assert_eq!(
        status, 200,
        "a fresh code with the right verifier is exchanged: {body}"
    );
    Ok(body)
}

pub fn str_field<'a>(body: &'a serde_json::Value, field: &str) -> TestResult<&'a str> {
    Ok(body[field]
        .as_str()
        .ok_or_else(|| format!("{field} must be a string in {body}"))?)
}

/// An answer as the tests read it: status, headers and raw body.
pub type TextAnswer = (u16, HeaderMap, String);

/// A kapi request with a bearer token.
async fn kapi(request: reqwest::RequestBuilder, token: &str) -> TestResult<TextAnswer> {
    let response = request.bearer_auth(token).send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Ok((status, headers, response.text().await?))
}

/// GET a kapi path with a bearer token.
pub async fn kapi_get(
    emulator: &RunningEmulator,
    path: &str,
    token: &str,
) -> TestResult<TextAnswer> {
    kapi(client()?.get(emulator.url(path)), token).await
}

/// POST a kapi path with a bearer token.
pub async fn kapi_post(
    emulator: &RunningEmulator,
    path: &str,
    token: &str,
) -> TestResult<TextAnswer> {
    kapi(client()?.post(emulator.url(path)), token).await
}

/// Parses a body that must be JSON.
pub fn json(body: &str) -> TestResult<serde_json::Value> {
    Ok(serde_json::from_str(body).map_err(|e| format!("body must be JSON ({e}): {body}"))?)
}

/// A `refresh_token` grant request.
pub async fn refresh_with(
    emulator: &RunningEmulator,
    refresh_token: &str,
) -> TestResult<JsonAnswer> {
    post_token(
        emulator,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", emulator.client_id()),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

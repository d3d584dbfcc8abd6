//! Shared fixtures for the emulator's integration tests: a started emulator,
//! an HTTP client with redirects off, PKCE values and a login helper.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kakao_emulator::{Clock, EmulatorConfig, RunningEmulator, fixture_ids};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use sha2::{Digest, Sha256};

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

pub async fn emulator() -> RunningEmulator {
    start(config()).await
}

pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    kakao_emulator::start(config)
        .await
        .unwrap_or_else(|e| panic!("emulator must start: {e}"))
}

/// reqwest with redirects off (a login client must read `Location` itself).
pub fn client() -> reqwest::Client {
    client_builder()
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

/// The builder behind [`client`], for tests that add a timeout.
pub fn client_builder() -> reqwest::ClientBuilder {
    // reqwest is built with rustls but no provider; plain http needs none,
    // yet the builder wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
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

pub fn location(headers: &HeaderMap) -> String {
    headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a Location header was expected: {headers:?}"))
        .to_owned()
}

pub fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// One query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Runs authorize (auto-consent) and returns the code.
pub async fn authorize_code(emulator: &RunningEmulator) -> String {
    let response = client()
        .get(authorize_url(emulator, ""))
        .send()
        .await
        .unwrap_or_else(|e| panic!("authorize: {e}"));
    assert_eq!(
        response.status(),
        302,
        "auto-consent answers authorize with a redirect"
    );
    query_param(&location(response.headers()), "code")
        .unwrap_or_else(|| panic!("no code in the redirect"))
}

/// POSTs a form to the token endpoint; returns status, headers and JSON.
pub async fn post_token(
    emulator: &RunningEmulator,
    form: &[(&str, &str)],
) -> (u16, HeaderMap, serde_json::Value) {
    let response = client()
        .post(emulator.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("token: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("token body is JSON: {e}"));
    (status, headers, body)
}

/// Exchanges a code with the test redirect URI and verifier.
pub async fn exchange(
    emulator: &RunningEmulator,
    code: &str,
) -> (u16, HeaderMap, serde_json::Value) {
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
pub async fn login(emulator: &RunningEmulator) -> serde_json::Value {
    let code = authorize_code(emulator).await;
    let (status, _, body) = exchange(emulator, &code).await;
    assert_eq!(
        status, 200,
        "a fresh code with the right verifier is exchanged: {body}"
    );
    body
}

pub fn str_field<'a>(body: &'a serde_json::Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} must be a string in {body}"))
}

/// GET a kapi path with a bearer token; returns status, headers and raw body.
pub async fn kapi_get(
    emulator: &RunningEmulator,
    path: &str,
    token: &str,
) -> (u16, HeaderMap, String) {
    let response = client()
        .get(emulator.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap_or_default())
}

/// POST a kapi path with a bearer token.
pub async fn kapi_post(
    emulator: &RunningEmulator,
    path: &str,
    token: &str,
) -> (u16, HeaderMap, String) {
    let response = client()
        .post(emulator.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap_or_default())
}

/// Parses a body that must be JSON.
pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body must be JSON ({e}): {body}"))
}

/// A `refresh_token` grant request.
pub async fn refresh_with(
    emulator: &RunningEmulator,
    refresh_token: &str,
) -> (u16, HeaderMap, serde_json::Value) {
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

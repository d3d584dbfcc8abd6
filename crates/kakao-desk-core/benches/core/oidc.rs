//! id_token verification with discovery and the JWKS already cached.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::Criterion;
use kakao_desk_core::authorize::{LoginOptions, begin};
use kakao_desk_core::clock::ManualClock;
use kakao_desk_core::config::{Config, Resolution};
use kakao_desk_core::kakao::{ClientOptions, KakaoClient};
use kakao_desk_core::oidc::IdTokenVerifier;
use kakao_desk_core::secret::{AuthorizationCode, IdToken, Nonce};
use kakao_emulator::{Clock, EmulatorConfig, RunningEmulator, fixture_ids};

use crate::{query_value, t0};

/// One real login against the emulator, the browser's part played by a
/// plain HTTP client: begin, authorize (auto-consent), exchange the code.
/// Returns the configuration, the client, the id_token and its nonce.
async fn login(emulator: &RunningEmulator) -> (Config, KakaoClient, IdToken, Nonce) {
    let env = HashMap::from([
        ("KAKAO_CLIENT_ID", emulator.client_id().to_owned()),
        ("KAKAO_REDIRECT_URI", emulator.bridge_redirect_uri()),
        ("KAKAO_REDIRECT_MODE", "bridge".to_owned()),
        ("KAKAO_AUTH_BASE_URL", emulator.base_url().to_owned()),
        ("KAKAO_API_BASE_URL", emulator.base_url().to_owned()),
        (
            "KAKAO_SCOPES",
            "openid,profile_nickname,profile_image".to_owned(),
        ),
    ]);
    let config = match Config::resolve_layers(|name| env.get(name).cloned(), |_| None) {
        Ok(Resolution::Kakao(config)) => *config,
        other => panic!("the emulator configuration must resolve: {other:?}"),
    };
    let client = KakaoClient::new(&config, ClientOptions::default())
        .unwrap_or_else(|e| panic!("Kakao client: {e}"));
    let start =
        begin(&config, &LoginOptions::default(), t0()).unwrap_or_else(|e| panic!("begin: {e}"));
    // KakaoClient::new installed rustls' ring provider for the process.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("browser client: {e}"));
    let response = browser
        .get(start.url.secret().as_str())
        .send()
        .await
        .unwrap_or_else(|e| panic!("authorize: {e}"));
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("auto-consent redirects with a Location"))
        .to_owned();
    let code = AuthorizationCode::new(query_value(&location, "code"));
    let tokens = client
        .exchange_code(
            &code,
            start.pending.verifier(),
            start.pending.redirect_uri(),
        )
        .await
        .unwrap_or_else(|e| panic!("code exchange: {e}"));
    let id_token = tokens
        .id_token
        .unwrap_or_else(|| panic!("OIDC is on in the emulator, so an id_token is issued"));
    let nonce = Nonce::new(query_value(start.url.secret().as_str(), "nonce"));
    (config, client, id_token, nonce)
}

/// `IdTokenVerifier::verify` of a real RS256 id_token from the emulator:
/// header, RSA signature, `iss`, `aud`, `exp` and `nonce`, with discovery and
/// the JWKS cached by a first verification. The emulator's request log must
/// not grow while the benchmark runs: no network in the measured loop.
pub fn verify_cached_jwks(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let emulator = rt
        .block_on(kakao_emulator::start(EmulatorConfig {
            auto_consent: Some(fixture_ids::NINETEEN_DIGIT_ID),
            clock: Clock::fixed(t0()),
            ..EmulatorConfig::default()
        }))
        .unwrap_or_else(|e| panic!("the emulator must start: {e}"));
    let (config, client, token, nonce) = rt.block_on(login(&emulator));
    let verifier = IdTokenVerifier::new(config.auth_base_url.clone());
    let clock = ManualClock::new(t0());
    let claims = rt
        .block_on(verifier.verify(&client, &token, &config.client_id, &nonce, &clock))
        .unwrap_or_else(|e| panic!("a genuine id_token verifies: {e}"));
    assert_eq!(
        claims.sub, "1376016924426111111",
        "the verified token is the logged-in user's"
    );
    let log = emulator.requests();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    ] {
        assert_eq!(
            log.to_path(path).len(),
            1,
            "the first verification fetched {path} once, so the cache is warm"
        );
    }
    let requests_before = log.all().len();

    let mut group = c.benchmark_group("oidc");
    group.bench_function("verify_cached_jwks", |b| {
        b.iter(|| {
            rt.block_on(verifier.verify(
                &client,
                black_box(&token),
                &config.client_id,
                &nonce,
                black_box(&clock),
            ))
            .unwrap_or_else(|e| panic!("verify: {e}"))
        });
    });
    group.finish();

    assert_eq!(
        emulator.requests().all().len(),
        requests_before,
        "verification with a warm cache must not touch the network"
    );
    rt.block_on(emulator.shutdown());
}

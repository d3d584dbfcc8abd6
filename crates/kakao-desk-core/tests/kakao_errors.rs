//! Kakao's failures, produced by the real emulator, reach the user as the
//! right stable code, and the session survives where it should.

mod common;

use std::time::Duration;

use common::*;
use kakao_desk_core::ErrorCode;
use kakao_desk_core::config::RedirectUri;
use kakao_desk_core::kakao::{ClientOptions, KakaoClient};
use kakao_desk_core::login::LoginOptions;
use kakao_desk_core::secret::AuthorizationCode;
use kakao_emulator::{Fault, FaultMode, IssuanceLimit};

/// Plays the browser for a login and returns the code and the deep link. The
/// pending login's verifier stays inside the account, so the tests that
/// exchange this code themselves check errors Kakao decides before PKCE.
async fn code_from_browser(rig: &Rig) -> (String, String) {
    let link = rig.browser_callback().await;
    (query(&link, "code"), link)
}

#[tokio::test]
async fn koe101_unknown_client_id_is_a_config_error() {
    let rig = rig().await;
    let (code, _) = code_from_browser(&rig).await;
    let mut wrong = rig.config.clone();
    wrong.client_id = "ffffffffffffffffffffffffffffffff".to_owned();
    let client = KakaoClient::new(&wrong, rig.client).unwrap_or_else(|e| panic!("{e}"));
    let error = client
        .exchange_code(
            &AuthorizationCode::new(code),
            &verifier(),
            &rig.config.redirect_uri,
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("an unknown key must be refused"));
    assert_eq!(
        error.kakao_code(),
        "KOE101",
        "Kakao's code is kept for logs"
    );
    assert_eq!(
        error.code(),
        ErrorCode::KakaoConfig,
        "the publisher's key is wrong"
    );
}

#[tokio::test]
async fn koe303_redirect_mismatch_is_a_config_error() {
    let rig = rig().await;
    let (code, _) = code_from_browser(&rig).await;
    let client = KakaoClient::new(&rig.config, rig.client).unwrap_or_else(|e| panic!("{e}"));
    let other =
        RedirectUri::parse("http://127.0.0.1:1/elsewhere").unwrap_or_else(|e| panic!("{e}"));
    let error = client
        .exchange_code(&AuthorizationCode::new(code), &verifier(), &other)
        .await
        .err()
        .unwrap_or_else(|| panic!("a different redirect_uri must be refused"));
    assert_eq!(error.kakao_code(), "KOE303");
    assert_eq!(error.code(), ErrorCode::KakaoConfig);
}

#[tokio::test]
async fn koe010_missing_client_secret_fails_the_login_cleanly() {
    let mut setup = Setup::default();
    setup.emulator.client_secret = Some("s3cret-value".to_owned());
    let rig = rig_with(setup).await;
    let link = rig.browser_callback().await;
    let error = rig.account.complete_login(&link, |_| {}).await.err();
    assert_eq!(
        error.as_ref().map(|e| e.code()),
        Some(ErrorCode::KakaoConfig),
        "KOE010: {error:?}"
    );
    assert!(
        !rig.account.is_signed_in().await,
        "no session from a failed exchange"
    );
    assert!(rig.stored_record().is_none(), "nothing sealed");
}

#[tokio::test]
async fn a_configured_client_secret_is_sent() {
    let mut setup = Setup::default();
    setup.emulator.client_secret = Some("s3cret-value".to_owned());
    setup
        .env
        .push(("KAKAO_CLIENT_SECRET", "s3cret-value".to_owned()));
    let rig = rig_with(setup).await;
    rig.login().await;
    let exchange = rig.grants("authorization_code");
    assert!(
        exchange[0].param("client_secret").is_some(),
        "client_secret_post when configured"
    );
}

#[tokio::test]
async fn koe320_a_replayed_code_means_log_in_again() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    rig.account
        .complete_login(&link, |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = KakaoClient::new(&rig.config, rig.client).unwrap_or_else(|e| panic!("{e}"));
    let error = client
        .exchange_code(
            &AuthorizationCode::new(query(&link, "code")),
            &verifier(),
            &rig.config.redirect_uri,
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("a code is single-use"));
    assert_eq!(error.kakao_code(), "KOE320");
    assert_eq!(error.code(), ErrorCode::SessionExpired);
}

#[tokio::test]
async fn koe322_an_expired_refresh_token_ends_the_session_but_keeps_the_cache() {
    let rig = rig().await;
    rig.login().await;
    rig.advance(Duration::from_secs(61 * 24 * 3600));
    let error = rig.account.refresh_if_needed().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::SessionExpired),
        "invalid_grant/KOE322"
    );
    assert_eq!(
        rig.grants("refresh_token")[0].status,
        400,
        "Kakao refused the refresh token"
    );
    assert!(!rig.account.is_signed_in().await, "signed out");
    assert!(rig.stored_record().is_none(), "the vault is wiped");
    assert!(
        rig.account.last_account().ok().flatten().is_some(),
        "the cached profile stays"
    );
}

#[tokio::test]
async fn koe237_rate_limit_keeps_the_session() {
    let mut setup = Setup::default();
    setup.emulator.issuance_limit = Some(IssuanceLimit {
        access_tokens: 1,
        ..IssuanceLimit::default()
    });
    // A 4-minute token is inside the refresh margin at once, so the refresh
    // falls in the same 10-minute issuance window as the login.
    setup.emulator.access_ttl = Duration::from_secs(4 * 60);
    let rig = rig_with(setup).await;
    rig.login().await;
    let before = rig
        .stored_record()
        .map(|r| r.access_token.secret().to_owned());
    let error = rig.account.refresh_if_needed().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::RateLimited),
        "KOE237"
    );
    assert_eq!(
        rig.grants("refresh_token").len(),
        1,
        "a rate limit is not retried"
    );
    assert!(rig.account.is_signed_in().await, "the session is intact");
    assert_eq!(
        rig.stored_record()
            .map(|r| r.access_token.secret().to_owned()),
        before,
        "vault unchanged"
    );
}

#[tokio::test]
async fn minus_one_is_retried_once_then_reported_as_temporary() {
    let rig = rig().await;
    rig.login().await;
    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::KapiInternalError,
        FaultMode::Once,
    );
    rig.account
        .check_session()
        .await
        .unwrap_or_else(|e| panic!("one -1 is absorbed by the retry: {e}"));
    assert_eq!(
        rig.requests("/v1/user/access_token_info").len(),
        2,
        "exactly one retry"
    );

    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::KapiInternalError,
        FaultMode::Always,
    );
    let error = rig.account.check_session().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::KakaoTemporary),
        "-1 twice is temporary"
    );
    assert_eq!(
        rig.requests("/v1/user/access_token_info").len(),
        4,
        "still only one retry"
    );
    assert!(
        rig.account.is_signed_in().await,
        "-1 never logs the user out (reference §5.1)"
    );
}

#[tokio::test]
async fn minus_402_asks_for_consent_and_keeps_the_session() {
    let rig = rig().await;
    rig.login().await;
    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::InsufficientScope,
        FaultMode::Once,
    );
    let error = rig.account.check_session().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::ConsentRequired),
        "-402 means the user must agree to more items (DESIGN §6)"
    );
    assert_eq!(
        rig.requests("/v1/user/access_token_info").len(),
        1,
        "-402 is not transient: no retry"
    );
    assert!(
        rig.account.is_signed_in().await,
        "missing consent is no reason to log the user out"
    );
    assert_eq!(
        rig.grants("refresh_token").len(),
        0,
        "-402 is not -401: no refresh"
    );
}

#[tokio::test]
async fn a_500_on_the_code_exchange_is_temporary_and_not_retried() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::ServerError, FaultMode::Always);
    let error = rig.account.complete_login(&link, |_| {}).await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::KakaoTemporary),
        "500 → kakao_temporary"
    );
    assert_eq!(
        rig.grants("authorization_code").len(),
        1,
        "a single-use code is never retried"
    );
    assert!(!rig.account.is_signed_in().await);
}

#[tokio::test]
async fn a_500_on_refresh_is_retried_once() {
    let rig = rig().await;
    rig.login().await;
    rig.advance(Duration::from_secs(6 * 3600));
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::ServerError, FaultMode::Once);
    let refreshed = rig
        .account
        .refresh_if_needed()
        .await
        .unwrap_or_else(|e| panic!("retry absorbs one 500: {e}"));
    assert!(refreshed, "the access token was renewed");
    assert_eq!(
        rig.grants("refresh_token").len(),
        2,
        "one failure, one retry"
    );

    rig.advance(Duration::from_secs(6 * 3600));
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::ServerError, FaultMode::Always);
    let error = rig.account.refresh_if_needed().await.err();
    assert_eq!(error.map(|e| e.code()), Some(ErrorCode::KakaoTemporary));
    assert!(
        rig.account.is_signed_in().await,
        "a temporary failure keeps the session"
    );
    assert!(rig.stored_record().is_some(), "and the vault");
}

#[tokio::test]
async fn a_hang_past_the_timeout_is_a_network_error() {
    let mut setup = Setup::default();
    setup.client = ClientOptions {
        timeout: Duration::from_millis(300),
        ..setup.client
    };
    let rig = rig_with(setup).await;
    rig.login().await;
    rig.emulator
        .faults()
        .inject("/v1/user/access_token_info", Fault::Hang, FaultMode::Always);
    let error = rig.account.check_session().await.err();
    assert_eq!(
        error.as_ref().map(|e| e.code()),
        Some(ErrorCode::Network),
        "a timeout: {error:?}"
    );
    assert!(
        rig.account.is_signed_in().await,
        "a timeout keeps the session"
    );
}

#[tokio::test]
async fn truncated_json_is_temporary() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::TruncatedJson, FaultMode::Once);
    let error = rig.account.complete_login(&link, |_| {}).await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::KakaoTemporary),
        "an unreadable token answer"
    );
    assert!(!rig.account.is_signed_in().await, "no half session");

    rig.login().await;
    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::TruncatedJson,
        FaultMode::Always,
    );
    let error = rig.account.check_session().await.err();
    assert_eq!(error.map(|e| e.code()), Some(ErrorCode::KakaoTemporary));
    assert!(
        rig.account.is_signed_in().await,
        "the session survives a garbled answer"
    );
}

#[tokio::test]
async fn a_truncated_profile_is_retried_during_login() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    rig.emulator
        .faults()
        .inject("/v2/user/me", Fault::TruncatedJson, FaultMode::Once);
    rig.account
        .complete_login(&link, |_| {})
        .await
        .unwrap_or_else(|e| panic!("the retry fetches it: {e}"));
    assert_eq!(
        rig.requests("/v2/user/me").len(),
        2,
        "one garbled answer, one retry"
    );
}

#[tokio::test]
async fn an_unreachable_kakao_is_a_network_error() {
    let mut setup = Setup::default();
    setup
        .env
        .push(("KAKAO_API_BASE_URL", "http://127.0.0.1:9".to_owned()));
    let rig = rig_with(setup).await;
    let started = rig
        .account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let location = rig.authorize(started.authorize_url.as_str()).await;
    let error = rig
        .account
        .complete_login(&deep_link_for(&location), |_| {})
        .await
        .err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::Network),
        "connection refused on kapi"
    );
}

fn verifier() -> kakao_desk_core::secret::PkceVerifier {
    kakao_desk_core::secret::PkceVerifier::new("not-the-pending-verifier-but-irrelevant-here")
}

fn query(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

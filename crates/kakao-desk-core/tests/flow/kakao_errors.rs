//! Kakao's failures, produced by the real emulator, reach the user as the
//! right stable code, and the session survives where it should.

use std::time::Duration;

use kakao_desk_core::ErrorCode;
use kakao_desk_core::config::RedirectUri;
use kakao_desk_core::kakao::{ClientOptions, KakaoClient};
use kakao_desk_core::secret::{AuthorizationCode, PkceVerifier};
use kakao_emulator::{Fault, FaultMode, IssuanceLimit};

use crate::rig::*;

/// Plays the browser for a login and returns the code. The pending login's
/// verifier stays inside the login, so the tests that exchange this code
/// themselves check errors Kakao decides before PKCE.
async fn code_from_browser(rig: &Rig) -> TestResult<String> {
    let (_, link) = rig.browser_callback().await?;
    Ok(query(&link, "code").ok_or("a code")?)
}

fn verifier() -> PkceVerifier {
    PkceVerifier::new("not-the-pending-verifier-but-irrelevant-here")
}

#[tokio::test]
async fn koe101_unknown_client_id_is_a_config_error() -> TestResult {
    let rig = Rig::new().await?;
    let code = code_from_browser(&rig).await?;
    let mut wrong = rig.config.clone();
    wrong.client_id = "ffffffffffffffffffffffffffffffff".to_owned();
    let client = KakaoClient::new(&wrong, rig.client)?;
    let error = client
        .exchange_code(
            &AuthorizationCode::new(code),
            &verifier(),
            &rig.config.redirect_uri,
        )
        .await
        .err()
        .ok_or("an unknown key must be refused")?;
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
    Ok(())
}

#[tokio::test]
async fn koe303_redirect_mismatch_is_a_config_error() -> TestResult {
    let rig = Rig::new().await?;
    let code = code_from_browser(&rig).await?;
    let client = KakaoClient::new(&rig.config, rig.client)?;
    let other = RedirectUri::parse("http://127.0.0.1:1/elsewhere")?;
    let error = client
        .exchange_code(&AuthorizationCode::new(code), &verifier(), &other)
        .await
        .err()
        .ok_or("a different redirect_uri must be refused")?;
    assert_eq!(error.kakao_code(), "KOE303");
    assert_eq!(error.code(), ErrorCode::KakaoConfig);
    Ok(())
}

#[tokio::test]
async fn koe010_missing_client_secret_fails_the_login_cleanly() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.client_secret = Some("s3cret-value".to_owned());
    let rig = Rig::with(setup).await?;
    let (attempt, link) = rig.browser_callback().await?;
    let error = rig.finish(attempt, &link).await?.err();
    assert_eq!(
        error.as_ref().map(|e| e.code()),
        Some(ErrorCode::KakaoConfig),
        "KOE010: {error:?}"
    );
    assert!(
        !rig.login.is_signed_in(),
        "no session from a failed exchange"
    );
    assert!(rig.stored_record()?.is_none(), "nothing sealed");
    Ok(())
}

#[tokio::test]
async fn a_configured_client_secret_is_sent() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.client_secret = Some("s3cret-value".to_owned());
    setup
        .env
        .push(("KAKAO_CLIENT_SECRET", "s3cret-value".to_owned()));
    let rig = Rig::with(setup).await?;
    rig.log_in().await?;
    let exchange = rig.grants("authorization_code");
    assert!(
        exchange[0].param("client_secret").is_some(),
        "client_secret_post when configured"
    );
    Ok(())
}

#[tokio::test]
async fn koe320_a_replayed_code_means_log_in_again() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    rig.finish(attempt, &link).await??;
    let client = KakaoClient::new(&rig.config, rig.client)?;
    let error = client
        .exchange_code(
            &AuthorizationCode::new(query(&link, "code").unwrap_or_default()),
            &verifier(),
            &rig.config.redirect_uri,
        )
        .await
        .err()
        .ok_or("a code is single-use")?;
    assert_eq!(error.kakao_code(), "KOE320");
    assert_eq!(error.code(), ErrorCode::SessionExpired);
    Ok(())
}

#[tokio::test]
async fn koe322_an_expired_refresh_token_ends_the_session_but_keeps_the_cache() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.advance(Duration::from_secs(61 * 24 * 3600));
    let error = rig.login.refresh_if_needed().await.err();
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
    assert!(!rig.login.is_signed_in(), "signed out");
    assert!(rig.stored_record()?.is_none(), "the vault is wiped");
    assert!(
        rig.login.most_recent_profile().ok().flatten().is_some(),
        "the cached profile stays"
    );
    Ok(())
}

#[tokio::test]
async fn koe237_rate_limit_keeps_the_session() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.issuance_limit = Some(IssuanceLimit {
        access_tokens: 1,
        ..IssuanceLimit::default()
    });
    // A 4-minute token is inside the refresh margin at once, so the refresh
    // falls in the same 10-minute issuance window as the login.
    setup.emulator.access_ttl = Duration::from_secs(4 * 60);
    let rig = Rig::with(setup).await?;
    rig.log_in().await?;
    let before = rig
        .stored_record()?
        .map(|r| r.access_token.secret().to_owned());
    let error = rig.login.refresh_if_needed().await.err();
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
    assert!(rig.login.is_signed_in(), "the session is intact");
    assert_eq!(
        rig.stored_record()?
            .map(|r| r.access_token.secret().to_owned()),
        before,
        "vault unchanged"
    );
    Ok(())
}

#[tokio::test]
async fn minus_one_is_retried_once_then_reported_as_temporary() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::KapiInternalError,
        FaultMode::Once,
    );
    rig.login
        .check_session()
        .await
        .map_err(|e| format!("one -1 is absorbed by the retry: {e}"))?;
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
    let error = rig.login.check_session().await.err();
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
        rig.login.is_signed_in(),
        "-1 never logs the user out (docs/kakao-api.md §5.1)"
    );
    Ok(())
}

#[tokio::test]
async fn minus_402_asks_for_consent_and_keeps_the_session() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::InsufficientScope,
        FaultMode::Once,
    );
    let error = rig.login.check_session().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::ConsentRequired),
        "-402 means the user must agree to more items"
    );
    assert_eq!(
        rig.requests("/v1/user/access_token_info").len(),
        1,
        "-402 is not transient: no retry"
    );
    assert!(
        rig.login.is_signed_in(),
        "missing consent is no reason to log the user out"
    );
    assert_eq!(
        rig.grants("refresh_token").len(),
        0,
        "-402 is not -401: no refresh"
    );
    Ok(())
}

#[tokio::test]
async fn a_500_on_the_code_exchange_is_temporary_and_not_retried() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::ServerError, FaultMode::Always);
    let error = rig.finish(attempt, &link).await?.err();
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
    assert!(!rig.login.is_signed_in());
    Ok(())
}

#[tokio::test]
async fn a_500_on_refresh_is_retried_once() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.advance(Duration::from_secs(6 * 3600));
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::ServerError, FaultMode::Once);
    let refreshed = rig
        .login
        .refresh_if_needed()
        .await
        .map_err(|e| format!("retry absorbs one 500: {e}"))?;
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
    let error = rig.login.refresh_if_needed().await.err();
    assert_eq!(error.map(|e| e.code()), Some(ErrorCode::KakaoTemporary));
    assert!(
        rig.login.is_signed_in(),
        "a temporary failure keeps the session"
    );
    assert!(rig.stored_record()?.is_some(), "and the vault");
    Ok(())
}

#[tokio::test]
async fn a_hang_past_the_timeout_is_a_network_error() -> TestResult {
    let mut setup = Setup::default();
    setup.client = ClientOptions {
        timeout: Duration::from_millis(300),
        ..setup.client
    };
    let rig = Rig::with(setup).await?;
    rig.log_in().await?;
    rig.emulator
        .faults()
        .inject("/v1/user/access_token_info", Fault::Hang, FaultMode::Always);
    let error = rig.login.check_session().await.err();
    assert_eq!(
        error.as_ref().map(|e| e.code()),
        Some(ErrorCode::Network),
        "a timeout: {error:?}"
    );
    assert!(rig.login.is_signed_in(), "a timeout keeps the session");
    Ok(())
}

#[tokio::test]
async fn truncated_json_is_temporary() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    rig.emulator
        .faults()
        .inject("/oauth/token", Fault::TruncatedJson, FaultMode::Once);
    let error = rig.finish(attempt, &link).await?.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::KakaoTemporary),
        "an unreadable token answer"
    );
    assert!(!rig.login.is_signed_in(), "no half session");

    rig.log_in().await?;
    rig.emulator.faults().inject(
        "/v1/user/access_token_info",
        Fault::TruncatedJson,
        FaultMode::Always,
    );
    let error = rig.login.check_session().await.err();
    assert_eq!(error.map(|e| e.code()), Some(ErrorCode::KakaoTemporary));
    assert!(
        rig.login.is_signed_in(),
        "the session survives a garbled answer"
    );
    Ok(())
}

#[tokio::test]
async fn a_truncated_profile_is_retried_during_login() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    rig.emulator
        .faults()
        .inject("/v2/user/me", Fault::TruncatedJson, FaultMode::Once);
    rig.finish(attempt, &link)
        .await?
        .map_err(|e| format!("the retry fetches it: {e}"))?;
    assert_eq!(
        rig.requests("/v2/user/me").len(),
        2,
        "one garbled answer, one retry"
    );
    Ok(())
}

#[tokio::test]
async fn an_unreachable_kakao_is_a_network_error() -> TestResult {
    let mut setup = Setup::default();
    setup
        .env
        .push(("KAKAO_API_BASE_URL", "http://127.0.0.1:9".to_owned()));
    let rig = Rig::with(setup).await?;
    let (attempt, link) = rig.browser_callback().await?;
    let error = rig.finish(attempt, &link).await?.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::Network),
        "connection refused on kapi"
    );
    Ok(())
}

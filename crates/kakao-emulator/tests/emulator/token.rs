//! `POST /oauth/token`: Kakao's grant rules and exact error bodies.

use std::time::Duration;

use crate::rig::*;
use kakao_emulator::{EmulatorConfig, IssuanceLimit};
use serde_json::json;

fn kauth_error(error: &str, description: &str, code: &str) -> serde_json::Value {
    json!({"error": error, "error_description": description, "error_code": code})
}

#[tokio::test]
async fn codes_are_single_use_koe320() -> TestResult {
    let emulator = emulator().await?;
    let code = authorize_code(&emulator).await?;
    let (status, headers, _) = exchange(&emulator, &code).await?;
    assert_eq!(status, 200, "the first exchange succeeds");
    assert_eq!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"oauth\""),
        "Kakao sends WWW-Authenticate on token responses; clients must tolerate it"
    );
    let (status, headers, body) = exchange(&emulator, &code).await?;
    assert_eq!(
        (status, body),
        (
            400,
            kauth_error(
                "invalid_grant",
                &format!("authorization code not found for code={code}"),
                "KOE320"
            )
        ),
        "a reused code is Kakao's KOE320 (e.g. React StrictMode exchanging twice)"
    );
    assert_eq!(
        content_type(&headers),
        JSON_UTF8,
        "errors use the same content type"
    );
    Ok(())
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() -> TestResult {
    let emulator = emulator().await?;
    let code = authorize_code(&emulator).await?;
    emulator.clock().advance(Duration::from_secs(10 * 60));
    let (status, _, body) = exchange(&emulator, &code).await?;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("KOE320")),
        "a code older than 10 minutes is gone: {body}"
    );
    Ok(())
}

#[tokio::test]
async fn redirect_uri_must_match_koe303() -> TestResult {
    let emulator = emulator().await?;
    let code = authorize_code(&emulator).await?;
    let (status, _, body) = post_token(
        &emulator,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", emulator.client_id()),
            ("redirect_uri", "http://127.0.0.1:53682/oauth/callback/"),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
    )
    .await?;
    assert_eq!(
        (status, body),
        (
            400,
            kauth_error("invalid_grant", "Redirect URI mismatch.", "KOE303")
        ),
        "the token request must repeat the authorize redirect_uri exactly"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_or_missing_verifier_fails_and_burns_the_code() -> TestResult {
    let emulator = emulator().await?;
    for verifier in [Some("not-the-verifier"), None] {
        let code = authorize_code(&emulator).await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", emulator.client_id()),
            ("redirect_uri", REDIRECT_URI),
            ("code", code.as_str()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        let (status, _, body) = post_token(&emulator, &form).await?;
        assert_eq!(
            (status, body),
            (
                400,
                kauth_error("invalid_grant", "PKCE verification failed.", "KOE320")
            ),
            "a challenge was sent, so the verifier is enforced ({verifier:?})"
        );
        let (status, _, _) = exchange(&emulator, &code).await?;
        assert_eq!(status, 400, "a failed attempt consumed the code");
    }
    Ok(())
}

#[tokio::test]
async fn unknown_client_is_koe101_and_secret_is_koe010() -> TestResult {
    let emulator = start(EmulatorConfig {
        client_secret: Some("s3cret".into()),
        ..config()
    })
    .await?;
    let (status, _, body) = post_token(
        &emulator,
        &[("grant_type", "authorization_code"), ("client_id", "nope")],
    )
    .await?;
    assert_eq!(
        (status, body),
        (
            401,
            kauth_error("invalid_client", "Not exist client_id [nope]", "KOE101")
        ),
        "an unknown REST key is KOE101"
    );
    let code = authorize_code(&emulator).await?;
    let (status, _, body) = exchange(&emulator, &code).await?;
    assert_eq!(
        (status, body),
        (
            401,
            kauth_error("invalid_client", "Bad client credentials", "KOE010")
        ),
        "with Client Secret on, a request without it is KOE010"
    );
    let (status, _, body) = post_token(
        &emulator,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", emulator.client_id()),
            ("client_secret", "s3cret"),
            ("redirect_uri", REDIRECT_URI),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
    )
    .await?;
    assert_eq!(status, 200, "the right secret is accepted: {body}");
    let logged = emulator.requests().to_path("/oauth/token");
    assert_eq!(
        logged.last().and_then(|r| r.param("client_secret")),
        Some(kakao_emulator::MASK),
        "the secret never reaches the log"
    );
    Ok(())
}

#[tokio::test]
async fn unsupported_grant_type_is_refused() -> TestResult {
    let emulator = emulator().await?;
    let (status, _, body) = post_token(
        &emulator,
        &[
            ("grant_type", "password"),
            ("client_id", emulator.client_id()),
        ],
    )
    .await?;
    assert_eq!(
        (status, body),
        (
            400,
            kauth_error(
                "unsupported_grant_type",
                "unsupported grant_type: password",
                "KOE001"
            )
        ),
        "only authorization_code and refresh_token exist"
    );
    Ok(())
}

#[tokio::test]
async fn refresh_rotates_only_under_thirty_days_and_the_old_token_dies() -> TestResult {
    let emulator = emulator().await?;
    let tokens = login(&emulator).await?;
    let refresh = str_field(&tokens, "refresh_token")?.to_owned();
    // 31 days in: 29 left, so a renewed refresh token comes back.
    emulator
        .clock()
        .advance(Duration::from_secs(31 * 24 * 3600));
    let (status, _, body) = refresh_with(&emulator, &refresh).await?;
    assert_eq!(status, 200, "refresh works with 29 days left: {body}");
    assert_eq!(body["expires_in"], 21_599, "a new 6 h access token");
    assert_eq!(
        body["refresh_token_expires_in"], 5_183_999,
        "the renewed refresh token lives 60 days again"
    );
    assert!(
        body.get("scope").is_none(),
        "refresh responses carry no scope (clients keep the old one)"
    );
    let renewed = str_field(&body, "refresh_token")?.to_owned();
    assert_ne!(
        renewed, refresh,
        "under 30 days left Kakao returns a new refresh token"
    );

    let (status, _, body) = refresh_with(&emulator, &refresh).await?;
    assert_eq!(
        (status, body),
        (
            400,
            kauth_error(
                "invalid_grant",
                "expired_or_invalid_refresh_token",
                "KOE322"
            )
        ),
        "the rotated-away refresh token no longer works"
    );
    let (status, _, _) = refresh_with(&emulator, &renewed).await?;
    assert_eq!(status, 200, "the renewed one does");

    // Past its 60 days the renewed token is dead too.
    emulator
        .clock()
        .advance(Duration::from_secs(60 * 24 * 3600));
    let (status, _, body) = refresh_with(&emulator, &renewed).await?;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("KOE322")),
        "an expired refresh token is KOE322"
    );

    let (status, _, body) = post_token(
        &emulator,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", emulator.client_id()),
        ],
    )
    .await?;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("KOE319")),
        "no refresh_token at all is KOE319"
    );
    Ok(())
}

#[tokio::test]
async fn per_user_issuance_limit_is_koe237() -> TestResult {
    let emulator = start(EmulatorConfig {
        issuance_limit: Some(IssuanceLimit {
            access_tokens: 2,
            ..IssuanceLimit::default()
        }),
        ..config()
    })
    .await?;
    login(&emulator).await?;
    login(&emulator).await?;
    let code = authorize_code(&emulator).await?;
    let (status, _, body) = exchange(&emulator, &code).await?;
    assert_eq!(
        (status, body),
        (
            400,
            kauth_error(
                "invalid_request",
                "token request rate limit exceeded",
                "KOE237"
            )
        ),
        "the third access token inside the window exceeds the quota"
    );
    emulator.clock().advance(Duration::from_secs(10 * 60));
    login(&emulator).await?;
    Ok(())
}

#[tokio::test]
async fn kakaos_real_quota_allows_twenty_access_tokens_per_ten_minutes() -> TestResult {
    let emulator = emulator().await?;
    for _ in 0..20 {
        login(&emulator).await?;
    }
    let code = authorize_code(&emulator).await?;
    let (status, _, body) = exchange(&emulator, &code).await?;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("KOE237")),
        "the 21st token in 10 minutes is refused, as documented: {body}"
    );
    Ok(())
}

#[tokio::test]
async fn id_token_omits_nonce_when_none_was_sent_and_openid_off_means_none() -> TestResult {
    let emulator = emulator().await?;
    let url = authorize_url(&emulator, "").replace("&nonce=n-1", "");
    let response = get(url).await?;
    let code = query_param(&location(response.headers())?, "code").unwrap_or_default();
    let (_, _, tokens) = exchange(&emulator, &code).await?;
    let payload = str_field(&tokens, "id_token")?
        .split('.')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let claims: serde_json::Value = serde_json::from_slice(&base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload,
    )?)?;
    assert!(
        claims.get("nonce").is_none(),
        "nonce is present only if it was sent: {claims}"
    );
    assert!(claims["sub"].is_string(), "sub is a string");
    assert_eq!(
        claims["auth_time"], T0,
        "auth_time is when the user authenticated"
    );

    let no_oidc = start(EmulatorConfig {
        openid: false,
        ..config()
    })
    .await?;
    let tokens = login(&no_oidc).await?;
    assert!(
        tokens.get("id_token").is_none(),
        "without OIDC enabled there is no id_token"
    );
    assert_eq!(
        tokens["scope"], "profile_nickname profile_image account_email",
        "and no openid scope"
    );
    Ok(())
}

#[tokio::test]
async fn refresh_token_quota_is_koe237_too() -> TestResult {
    let emulator = start(EmulatorConfig {
        issuance_limit: Some(IssuanceLimit {
            refresh_tokens: 1,
            ..IssuanceLimit::default()
        }),
        ..config()
    })
    .await?;
    let tokens = login(&emulator).await?;
    let code = authorize_code(&emulator).await?;
    let (status, _, body) = exchange(&emulator, &code).await?;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("KOE237")),
        "a code exchange issues a refresh token, so it counts against the refresh quota: {body}"
    );
    let (status, _, body) = refresh_with(&emulator, str_field(&tokens, "refresh_token")?).await?;
    assert_eq!(
        status, 200,
        "a refresh that does not rotate issues no refresh token, so it is allowed: {body}"
    );
    Ok(())
}

#[tokio::test]
async fn concurrent_exchanges_of_one_code_succeed_once() -> TestResult {
    let emulator = emulator().await?;
    let code = authorize_code(&emulator).await?;
    let (a, b) = tokio::join!(exchange(&emulator, &code), exchange(&emulator, &code));
    let mut statuses = [a?.0, b?.0];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 400],
        "exactly one of two racing exchanges wins (StrictMode double effects)"
    );
    Ok(())
}

/// The id_token of a login whose authorize request carried `extra`.
async fn id_token_after(
    emulator: &kakao_emulator::RunningEmulator,
    extra: &str,
) -> TestResult<Option<String>> {
    let redirect = redirect_of(authorize_url(emulator, extra), "auto-consent redirects").await?;
    let code = query_param(&redirect, "code").ok_or("no code")?;
    let (status, _, tokens) = exchange(emulator, &code).await?;
    assert_eq!(status, 200, "exchanged: {tokens}");
    let scope = tokens["scope"].as_str().unwrap_or_default().to_owned();
    let id_token = tokens
        .get("id_token")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    assert_eq!(
        scope.split(' ').any(|s| s == "openid"),
        id_token.is_some(),
        "`scope` lists openid exactly when an id_token comes: {tokens}"
    );
    Ok(id_token)
}

#[tokio::test]
async fn additional_consent_yields_an_id_token_only_when_openid_is_asked_for() -> TestResult {
    let emulator = emulator().await?;
    assert!(
        id_token_after(&emulator, "").await?.is_some(),
        "a plain login of an OIDC app gets an id_token without asking"
    );
    assert!(
        id_token_after(&emulator, "&scope=account_email")
            .await?
            .is_none(),
        "additional consent without openid: no new id_token, as Kakao documents"
    );
    assert!(
        id_token_after(&emulator, "&scope=openid,account_email")
            .await?
            .is_some(),
        "additional consent with openid: a new id_token"
    );
    Ok(())
}

#[tokio::test]
async fn the_token_endpoint_takes_only_a_form() -> TestResult {
    let emulator = emulator().await?;
    let code = authorize_code(&emulator).await?;
    let form = serde_json::json!({
        "grant_type": "authorization_code",
        "client_id": emulator.client_id(),
        "redirect_uri": REDIRECT_URI,
        "code": code,
        "code_verifier": VERIFIER,
    });
    let response = client()?
        .post(emulator.url("/oauth/token"))
        .header("content-type", "application/json")
        .body(form.to_string())
        .send()
        .await?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await?;
    assert_eq!(
        (status, body["error"].as_str(), body["error_code"].as_str()),
        (400, Some("invalid_request"), Some("KOE001")),
        "a JSON body is refused: {body}"
    );
    let none = client()?
        .post(emulator.url("/oauth/token"))
        .body(format!("grant_type=authorization_code&code={code}"))
        .send()
        .await?;
    assert_eq!(
        none.status().as_u16(),
        400,
        "a body without a content type too"
    );
    let (status, _, tokens) = exchange(&emulator, &code).await?;
    assert_eq!(
        status, 200,
        "the refused requests did not spend the code: {tokens}"
    );
    let charset = client()?
        .post(emulator.url("/oauth/token"))
        .header(
            "content-type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )
        .body("grant_type=refresh_token")
        .send()
        .await?;
    let body: serde_json::Value = charset.json().await?;
    assert_ne!(
        body["error_description"].as_str(),
        Some("Content-Type must be application/x-www-form-urlencoded."),
        "Kakao's own `;charset=utf-8` form passes the check: {body}"
    );
    Ok(())
}

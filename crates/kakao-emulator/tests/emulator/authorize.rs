//! `GET /oauth/authorize`: configuration errors render Kakao's error page and
//! never redirect; user outcomes redirect to the registered URI.

use crate::rig::*;
use kakao_emulator::{EmulatorConfig, fixture_ids};

/// `GET url` (with a session cookie, if given): status, headers and body.
async fn fetch(url: &str, cookie: Option<&str>) -> TestResult<TextAnswer> {
    let mut request = client()?.get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Ok((status, headers, response.text().await?))
}

/// Asserts an error page with `code` and no redirect.
fn assert_error_page(status: u16, headers: &reqwest::header::HeaderMap, body: &str, code: &str) {
    assert_eq!(
        status, 400,
        "{code}: Kakao shows an error page, not a redirect"
    );
    assert!(
        headers.get("location").is_none(),
        "{code}: nothing may be sent to the redirect URI"
    );
    assert_eq!(
        content_type(headers),
        "text/html;charset=UTF-8",
        "{code}: an HTML page for a person"
    );
    assert!(
        body.contains(code),
        "{code}: the page names the KOE code people search for: {body}"
    );
}

fn base(emulator: &kakao_emulator::RunningEmulator) -> String {
    format!("{}/oauth/authorize", emulator.base_url())
}

#[tokio::test]
async fn unknown_client_id_is_koe101_page() -> TestResult {
    let emulator = emulator().await?;
    let url = format!(
        "{}?client_id=wrong&redirect_uri={}&response_type=code",
        base(&emulator),
        enc(REDIRECT_URI)
    );
    let (status, headers, body) = fetch(&url, None).await?;
    assert_error_page(status, &headers, &body, "KOE101");
    Ok(())
}

#[tokio::test]
async fn unregistered_redirect_uri_is_koe006_page_without_redirect() -> TestResult {
    let emulator = emulator().await?;
    for wrong in [
        "http://127.0.0.1:53682/oauth/callback/", // trailing slash
        "http://localhost:53682/oauth/callback",  // different host spelling
        "HTTP://127.0.0.1:53682/oauth/callback",  // case
        "http://127.0.0.1:53683/oauth/callback",  // port
    ] {
        let url = format!(
            "{}?client_id={}&redirect_uri={}&response_type=code",
            base(&emulator),
            emulator.client_id(),
            enc(wrong)
        );
        let (status, headers, body) = fetch(&url, None).await?;
        assert_error_page(status, &headers, &body, "KOE006");
    }
    Ok(())
}

#[tokio::test]
async fn response_type_token_is_koe202_and_others_koe201() -> TestResult {
    let emulator = emulator().await?;
    let url = |rt: &str| {
        format!(
            "{}?client_id={}&redirect_uri={}&response_type={rt}",
            base(&emulator),
            emulator.client_id(),
            enc(REDIRECT_URI)
        )
    };
    let (status, headers, body) = fetch(&url("token"), None).await?;
    assert_error_page(status, &headers, &body, "KOE202");
    let (status, headers, body) = fetch(&url("id_token"), None).await?;
    assert_error_page(status, &headers, &body, "KOE201");
    assert!(
        body.contains("Unsupported response type: id_token"),
        "KOE201 names the bad value: {body}"
    );
    Ok(())
}

#[tokio::test]
async fn pkce_plain_and_unknown_scopes_are_refused() -> TestResult {
    let emulator = emulator().await?;
    let plain = format!(
        "{}?client_id={}&redirect_uri={}&response_type=code&code_challenge=abc&code_challenge_method=plain",
        base(&emulator),
        emulator.client_id(),
        enc(REDIRECT_URI)
    );
    let (status, headers, body) = fetch(&plain, None).await?;
    assert_error_page(status, &headers, &body, "KOE001");
    let (status, headers, body) =
        fetch(&authorize_url(&emulator, "&scope=openid,made_up"), None).await?;
    assert_error_page(status, &headers, &body, "KOE205");
    Ok(())
}

#[tokio::test]
async fn only_http_redirect_uris_can_be_registered() -> TestResult {
    let refused = kakao_emulator::start(EmulatorConfig {
        redirect_uris: vec!["dev.kakaodesk.desktop://oauth/callback".into()],
        ..EmulatorConfig::default()
    })
    .await;
    assert!(
        matches!(refused, Err(kakao_emulator::StartError::RedirectUri(_))),
        "a bare custom scheme cannot be registered with Kakao, so the emulator refuses it too"
    );
    let emulator = emulator().await?;
    assert!(
        emulator.register_redirect_uri("myapp://callback").is_err(),
        "registering after start follows the same rule"
    );
    assert!(
        emulator
            .register_redirect_uri("http://127.0.0.1:40000/cb")
            .is_ok(),
        "loopback http with a port can be registered"
    );
    Ok(())
}

#[tokio::test]
async fn consent_page_lists_items_and_cancel_redirects_access_denied() -> TestResult {
    let emulator = start(EmulatorConfig {
        auto_consent: None,
        ..config()
    })
    .await?;
    let (status, headers, body) = fetch(
        &authorize_url(&emulator, "&scope=profile_nickname,account_email"),
        None,
    )
    .await?;
    assert_eq!(
        status, 200,
        "without auto-consent a person sees the consent page"
    );
    assert_eq!(
        content_type(&headers),
        "text/html;charset=UTF-8",
        "the page is HTML"
    );
    for text in [
        "Kakao Desk",
        "닉네임",
        "카카오계정(이메일)",
        "동의하고 계속하기",
        "취소",
    ] {
        assert!(
            body.contains(text),
            "the consent page shows {text:?} in Korean: {body}"
        );
    }
    let tx = body
        .split("name=\"tx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| format!("the form carries a transaction id: {body}"))?
        .to_owned();
    let response = client()?
        .post(emulator.url("/oauth/authorize/consent"))
        .form(&[("tx", tx.as_str()), ("action", "cancel")])
        .send()
        .await
        .map_err(|e| format!("consent: {e}"))?;
    assert_eq!(response.status(), 302, "cancel redirects back to the app");
    assert_eq!(
        location(response.headers())?,
        format!(
            "{REDIRECT_URI}?error=access_denied&error_description=User%20denied%20access&state=st-1"
        ),
        "Kakao's documented cancel redirect, with the state echoed"
    );
    let reused = client()?
        .post(emulator.url("/oauth/authorize/consent"))
        .form(&[("tx", tx.as_str()), ("action", "agree")])
        .send()
        .await
        .map_err(|e| format!("consent: {e}"))?;
    assert_eq!(
        reused.status(),
        400,
        "an answered consent cannot be answered again"
    );
    assert!(
        emulator.requests().to_path("/oauth/token").is_empty(),
        "nothing reached the token endpoint during a cancelled login"
    );
    Ok(())
}

#[tokio::test]
async fn agree_links_the_user_and_the_session_skips_consent_next_time() -> TestResult {
    let emulator = start(EmulatorConfig {
        auto_consent: None,
        ..config()
    })
    .await?;
    let (_, _, body) = fetch(&authorize_url(&emulator, ""), None).await?;
    let tx = body
        .split("name=\"tx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let id = fixture_ids::EMOJI_NICKNAME.to_string();
    let response = client()?
        .post(emulator.url("/oauth/authorize/consent"))
        .form(&[
            ("tx", tx.as_str()),
            ("user", id.as_str()),
            ("action", "agree"),
        ])
        .send()
        .await
        .map_err(|e| format!("consent: {e}"))?;
    assert_eq!(response.status(), 302, "agree redirects with a code");
    assert!(
        query_param(&location(response.headers())?, "code").is_some(),
        "the redirect carries a code"
    );
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("agreeing starts a Kakao Account session")?
        .to_owned();

    // Same browser, linked user: Kakao issues the code without the page.
    let (status, headers, _) = fetch(&authorize_url(&emulator, ""), Some(&cookie)).await?;
    assert_eq!(
        status, 302,
        "a linked user with a session skips the consent screen"
    );
    assert!(
        query_param(&location(&headers)?, "code").is_some(),
        "and gets a code"
    );

    // prompt=login forces the page again.
    let (status, _, _) = fetch(&authorize_url(&emulator, "&prompt=login"), Some(&cookie)).await?;
    assert_eq!(
        status, 200,
        "prompt=login shows the login page even with a session"
    );
    Ok(())
}

#[tokio::test]
async fn prompt_none_without_session_or_consent_redirects_with_an_error() -> TestResult {
    let emulator = start(EmulatorConfig {
        auto_consent: None,
        ..config()
    })
    .await?;
    let (status, headers, _) = fetch(&authorize_url(&emulator, "&prompt=none"), None).await?;
    assert_eq!(status, 302, "prompt=none never shows a page");
    assert_eq!(
        location(&headers)?,
        format!(
            "{REDIRECT_URI}?error=login_required&error_description=user%20authentication%20required.&state=st-1"
        ),
        "no session: login_required"
    );

    // A scripted user who has a session but never consented.
    emulator.set_auto_consent(Some(fixture_ids::LUNAR_LEAP_MONTH))?;
    let (status, headers, _) = fetch(&authorize_url(&emulator, "&prompt=none"), None).await?;
    assert_eq!(status, 302, "prompt=none never shows a page");
    assert_eq!(
        location(&headers)?,
        format!(
            "{REDIRECT_URI}?error=consent_required&error_description=user%20consent%20required.&state=st-1"
        ),
        "Kakao's documented answer for a user not yet linked"
    );
    Ok(())
}

#[tokio::test]
async fn koe205_follows_the_apps_consent_items_not_a_global_list() -> TestResult {
    // Default: the items the fixtures configure, plus openid. `talk_message`
    // is a real Kakao scope, but this app has not set it up.
    let emulator = emulator().await?;
    for scope in ["talk_message", "friends"] {
        let (status, headers, body) =
            fetch(&authorize_url(&emulator, &format!("&scope={scope}")), None).await?;
        assert_error_page(status, &headers, &body, "KOE205");
    }
    let (status, _, _) = fetch(
        &authorize_url(&emulator, "&scope=openid,account_email,birthday"),
        None,
    )
    .await?;
    assert_eq!(status, 302, "configured items are asked for");

    // An app whose console lists only the nickname: email is KOE205.
    let narrow = start(EmulatorConfig {
        consent_items: Some(vec!["openid".into(), "profile_nickname".into()]),
        ..config()
    })
    .await?;
    let (status, headers, body) =
        fetch(&authorize_url(&narrow, "&scope=account_email"), None).await?;
    assert_error_page(status, &headers, &body, "KOE205");
    let (status, _, _) = fetch(
        &authorize_url(&narrow, "&scope=openid,profile_nickname"),
        None,
    )
    .await?;
    assert_eq!(status, 302, "a configured item passes");

    // OpenID Connect off: `openid` is no consent item of the app.
    let no_oidc = start(EmulatorConfig {
        openid: false,
        ..config()
    })
    .await?;
    let (status, headers, body) = fetch(
        &authorize_url(&no_oidc, "&scope=openid,account_email"),
        None,
    )
    .await?;
    assert_error_page(status, &headers, &body, "KOE205");
    Ok(())
}

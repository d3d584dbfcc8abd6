//! Discovery, JWKS, the bridge page, Kakao Account logout, and the router used
//! in-process without a socket.

use crate::rig::*;
use axum::body::Body;
use axum::http::Request;
use kakao_emulator::{EmulatorConfig, EmulatorState, app};
use serde_json::json;
use tower::ServiceExt as _;

#[tokio::test]
async fn discovery_document_is_kakaos_with_local_urls() -> TestResult {
    let emulator = emulator().await?;
    let response = get(emulator.url("/.well-known/openid-configuration")).await?;
    assert_eq!(
        content_type(response.headers()),
        "application/json;charset=utf-8",
        "Kakao answers discovery with lower-case utf-8 (docs/kakao-api.md §7.1)"
    );
    let base = emulator.base_url();
    assert_eq!(
        json(&response.text().await.unwrap_or_default())?,
        json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/oauth/authorize"),
            "token_endpoint": format!("{base}/oauth/token"),
            "userinfo_endpoint": format!("{base}/v1/oidc/userinfo"),
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "request_uri_parameter_supported": false,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss","aud","sub","auth_time","exp","iat","nonce","nickname","picture","email"]
        }),
        "Kakao's document field for field (no revocation or end_session endpoint)"
    );
    Ok(())
}

#[tokio::test]
async fn jwks_has_one_rsa_signing_key() -> TestResult {
    let emulator = emulator().await?;
    let response = get(emulator.url("/.well-known/jwks.json")).await?;
    assert_eq!(
        content_type(response.headers()),
        JSON_UTF8,
        "JSON content type"
    );
    let jwks = json(&response.text().await.unwrap_or_default())?;
    let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(keys.len(), 1, "one key: {jwks}");
    assert_eq!(
        str_field(&keys[0], "kid")?.len(),
        30,
        "kids look like Kakao's 30-hex-character kids"
    );
    Ok(())
}

#[tokio::test]
async fn bridge_page_forwards_the_query_to_the_app_scheme() -> TestResult {
    let emulator = start(EmulatorConfig {
        bridge_scheme: "dev.kakaodesk.desktop.debug".into(),
        ..config()
    })
    .await?;
    // The bridge URL is a registered redirect URI without configuration.
    let url = format!(
        "{}/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&state=a%2Bb",
        emulator.base_url(),
        emulator.client_id(),
        enc(&emulator.bridge_redirect_uri())
    );
    let response = get(url).await?;
    assert_eq!(
        response.status(),
        302,
        "the bridge URL is always registered"
    );
    let redirect = location(response.headers())?;
    let query = redirect
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    let page = get(&redirect).await?;
    assert_eq!(page.status(), 200, "the bridge page is a page");
    assert_eq!(
        content_type(page.headers()),
        "text/html;charset=UTF-8",
        "HTML"
    );
    let body = page.text().await.unwrap_or_default();
    let target = format!("dev.kakaodesk.desktop.debug://oauth/callback?{query}");
    assert!(
        body.contains(&format!("href=\"{}\"", target.replace('&', "&amp;"))),
        "the page links to the app scheme with the query untouched: {body}"
    );
    assert!(
        body.contains(&format!("window.location.replace(\"{target}\")")),
        "and navigates there by script: {body}"
    );
    Ok(())
}

#[tokio::test]
async fn kakao_account_logout_needs_a_registered_logout_uri() -> TestResult {
    let emulator = start(EmulatorConfig {
        logout_redirect_uris: vec!["http://127.0.0.1:53682/logged-out".into()],
        ..config()
    })
    .await?;
    let url = |target: &str| {
        format!(
            "{}/oauth/logout?client_id={}&logout_redirect_uri={}&state=s%201",
            emulator.base_url(),
            emulator.client_id(),
            enc(target)
        )
    };
    let response = get(url("http://127.0.0.1:53682/elsewhere")).await?;
    assert_eq!(
        response.status(),
        400,
        "an unregistered logout URI is an error page"
    );
    assert!(
        response.text().await.unwrap_or_default().contains("KOE007"),
        "with KOE007"
    );
    let response = get(url("http://127.0.0.1:53682/logged-out")).await?;
    assert_eq!(response.status(), 302, "a registered one is redirected to");
    assert_eq!(
        location(response.headers())?,
        "http://127.0.0.1:53682/logged-out?state=s%201",
        "with the state echoed"
    );
    assert_eq!(
        response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok()),
        Some("kakao_emulator_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        "the browser's Kakao Account session ends"
    );
    let own = get(url(&emulator.signed_out_uri())).await?;
    assert_eq!(
        own.status(),
        302,
        "the emulator's own page is registered too"
    );
    let landing = get(location(own.headers())?).await?;
    assert_eq!(landing.status(), 200);
    assert!(
        landing.text().await?.contains("로그아웃했습니다"),
        "and says the browser is signed out"
    );
    Ok(())
}

#[tokio::test]
async fn router_works_in_process_without_a_socket() -> TestResult {
    let state = EmulatorState::new(config(), "http://emulator.test")?;
    let response = app(state.clone())
        .oneshot(Request::get("/.well-known/openid-configuration").body(Body::empty())?)
        .await?;
    assert_eq!(response.status(), 200, "the router answers in-process");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert_eq!(
        doc["issuer"], "http://emulator.test",
        "the issuer is the base URL given to the state"
    );
    assert_eq!(
        state.requests().all().len(),
        1,
        "in-process requests are logged like socket ones"
    );
    Ok(())
}

#[tokio::test]
async fn tokeninfo_decodes_valid_id_tokens_and_refuses_others() -> TestResult {
    let emulator = emulator().await?;
    let tokens = login(&emulator).await?;
    let id_token = str_field(&tokens, "id_token")?.to_owned();
    let http = client()?;
    let info = |token: String| {
        let request = http
            .post(emulator.url("/oauth/tokeninfo"))
            .form(&[("id_token", token)]);
        async move {
            let response = request.send().await?;
            TestResult::Ok((response.status().as_u16(), json(&response.text().await?)?))
        }
    };
    let (status, claims) = info(id_token.clone()).await?;
    assert_eq!(status, 200, "a fresh id_token is decoded: {claims}");
    assert_eq!(
        claims["aud"],
        emulator.client_id(),
        "the payload is returned"
    );

    let mut forged = id_token.clone();
    forged.push('x');
    let (status, body) = info(forged).await?;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"error": "invalid_token", "error_description": "invalid id_token.", "error_code": "KOE400"})
        ),
        "a bad signature is KOE400"
    );
    emulator
        .clock()
        .advance(std::time::Duration::from_secs(6 * 3600));
    let (status, body) = info(id_token).await?;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("KOE400")),
        "an expired id_token is KOE400"
    );
    Ok(())
}

#[tokio::test]
async fn kakaos_literal_issuer_can_be_claimed_on_loopback() -> TestResult {
    const KAKAO_ISSUER: &str = "https://kauth.kakao.com";
    let emulator = start(EmulatorConfig {
        issuer: Some(KAKAO_ISSUER.to_owned()),
        ..config()
    })
    .await?;
    let discovery = json(
        &get(emulator.url("/.well-known/openid-configuration"))
            .await?
            .text()
            .await?,
    )?;
    assert_eq!(
        discovery["issuer"], KAKAO_ISSUER,
        "discovery names Kakao's issuer"
    );
    assert_eq!(
        discovery["jwks_uri"],
        format!("{}/.well-known/jwks.json", emulator.base_url()),
        "while every URL stays on the emulator"
    );
    let tokens = login(&emulator).await?;
    let payload = str_field(&tokens, "id_token")?
        .split('.')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let claims: serde_json::Value = serde_json::from_slice(&base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload,
    )?)?;
    assert_eq!(claims["iss"], KAKAO_ISSUER, "and so does the id_token");
    Ok(())
}

//! The whole login a desktop client performs, over a real socket:
//! authorize (PKCE S256, state, nonce) -> token -> id_token verified against the
//! served JWKS -> /v2/user/me -> refresh -> logout.

use std::time::Duration;

use crate::rig::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use kakao_emulator::{Clock, EmulatorConfig, fixture_ids};
use serde_json::Value;

#[tokio::test]
async fn code_pkce_id_token_user_me_refresh_logout() -> TestResult {
    // A system clock: jsonwebtoken checks `exp` against the real time.
    let clock = Clock::system();
    let emulator = start(EmulatorConfig {
        clock: clock.clone(),
        ..config()
    })
    .await?;
    let http = client()?;

    // 1. Discovery tells the client the issuer and the JWKS URL.
    let discovery: Value = http
        .get(emulator.url("/.well-known/openid-configuration"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("discovery: {e}"))?
        .json()
        .await
        .map_err(|e| format!("discovery JSON: {e}"))?;
    assert_eq!(
        discovery["issuer"],
        emulator.base_url(),
        "the issuer is the emulator's base URL, so iss checks pass against discovery"
    );

    // 2. Authorize: auto-consent answers 302 with code and the echoed state.
    let response = http
        .get(authorize_url(&emulator, "&ka=sdk%2F1.0&unknown_param=x"))
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    assert_eq!(
        response.status(),
        302,
        "valid authorize with auto-consent redirects at once"
    );
    let location = location(response.headers())?;
    assert!(
        location.starts_with(&format!("{REDIRECT_URI}?code=")),
        "the redirect goes to the registered URI with the code first: {location}"
    );
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("st-1"),
        "state is echoed unchanged"
    );
    let code = query_param(&location, "code").unwrap_or_default();

    // 3. Token exchange with the verifier.
    let (status, headers, tokens) = exchange(&emulator, &code).await?;
    assert_eq!(status, 200, "the exchange succeeds: {tokens}");
    assert_eq!(
        content_type(&headers),
        JSON_UTF8,
        "Kakao's exact JSON content type"
    );
    assert_eq!(
        tokens["token_type"], "bearer",
        "token_type is lowercase bearer"
    );
    assert_eq!(
        tokens["expires_in"], 21_599,
        "a 6 h token reports 21599 like real Kakao"
    );
    assert_eq!(
        tokens["refresh_token_expires_in"], 5_183_999,
        "60 days minus one second"
    );
    assert_eq!(
        tokens["scope"], "profile_nickname profile_image account_email openid",
        "granted scopes, space-separated, with openid when an id_token is issued"
    );

    // 4. Verify the id_token: kid -> JWKS key -> RS256, iss, aud, exp, nonce.
    let id_token = str_field(&tokens, "id_token")?;
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| format!("header: {e}"))?;
    assert_eq!(
        header.alg,
        Algorithm::RS256,
        "Kakao signs id_tokens with RS256 only"
    );
    assert_eq!(
        header.typ.as_deref(),
        Some("JWT"),
        "the header carries typ JWT"
    );
    let kid = header.kid.ok_or("the header must carry a kid")?;
    let jwks: Value = http
        .get(str_field(&discovery, "jwks_uri")?)
        .send()
        .await
        .map_err(|e| format!("jwks: {e}"))?
        .json()
        .await
        .map_err(|e| format!("jwks JSON: {e}"))?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .ok_or_else(|| format!("the JWKS must hold the id_token's kid: {jwks}"))?;
    assert_eq!(
        (&jwk["kty"], &jwk["alg"], &jwk["use"], &jwk["e"]),
        (
            &Value::from("RSA"),
            &Value::from("RS256"),
            &Value::from("sig"),
            &Value::from("AQAB")
        ),
        "the JWK has Kakao's fields"
    );
    let key = DecodingKey::from_rsa_components(str_field(jwk, "n")?, str_field(jwk, "e")?)
        .map_err(|e| format!("JWK to key: {e}"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[emulator.base_url()]);
    validation.set_audience(&[emulator.client_id()]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .map_err(|e| format!("the id_token must verify against the served JWKS: {e}"))?
        .claims;
    assert_eq!(
        claims["sub"],
        fixture_ids::NINETEEN_DIGIT_ID.to_string(),
        "sub is the member id as a string"
    );
    assert_eq!(
        claims["nonce"], "n-1",
        "the nonce sent at authorize is echoed"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap_or(0) - claims["iat"].as_u64().unwrap_or(0),
        21_600,
        "exp = iat + the access token lifetime"
    );
    assert_eq!(
        claims["email"], "kakao.kim@example.com",
        "a valid, verified email is a claim"
    );

    // 5. /v2/user/me with the access token; the 19-digit id survives as an integer.
    let access = str_field(&tokens, "access_token")?.to_owned();
    let (status, headers, body) =
        kapi_get(&emulator, "/v2/user/me?secure_resource=true", &access).await?;
    assert_eq!(status, 200, "a fresh token reads the user: {body}");
    assert_eq!(
        content_type(&headers),
        JSON_UTF8,
        "kapi uses the same content type"
    );
    assert!(
        body.starts_with("{") && body.contains("\"id\":1376016924426111111"),
        "the id is sent as an exact 19-digit integer, not a float or string: {body}"
    );

    // 6. Refresh: far from expiry, so no new refresh token; the id_token is renewed.
    clock.advance(Duration::from_secs(6 * 3600));
    let refresh = str_field(&tokens, "refresh_token")?.to_owned();
    let (status, _, refreshed) = post_token(
        &emulator,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", emulator.client_id()),
            ("refresh_token", &refresh),
        ],
    )
    .await?;
    assert_eq!(status, 200, "a valid refresh token refreshes: {refreshed}");
    assert!(
        refreshed.get("refresh_token").is_none()
            && refreshed.get("refresh_token_expires_in").is_none(),
        "with more than 30 days left Kakao returns no new refresh token: {refreshed}"
    );
    assert!(
        refreshed.get("id_token").is_some(),
        "a grant with an id_token refreshes it too"
    );
    let (status, _, body) = kapi_get(&emulator, "/v2/user/me", &access).await?;
    assert_eq!(
        status, 401,
        "the old access token has expired after 6 h: {body}"
    );
    let new_access = str_field(&refreshed, "access_token")?.to_owned();
    let (status, _, _) = kapi_get(&emulator, "/v1/user/access_token_info", &new_access).await?;
    assert_eq!(status, 200, "the refreshed access token works");

    // 7. Logout revokes the pair: the access token and the refresh token.
    let (status, _, body) = kapi_post(&emulator, "/v1/user/logout", &new_access).await?;
    assert_eq!(status, 200, "logout succeeds");
    assert_eq!(
        body, r#"{"id":1376016924426111111}"#,
        "logout answers the member id, exactly"
    );
    let (status, _, body) = kapi_get(&emulator, "/v2/user/me", &new_access).await?;
    assert_eq!(
        (status, json(&body)?),
        (
            401,
            serde_json::json!({"msg": "this access token does not exist", "code": -401})
        ),
        "a logged-out access token is gone"
    );
    let (status, _, body) = post_token(
        &emulator,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", emulator.client_id()),
            ("refresh_token", &refresh),
        ],
    )
    .await?;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("KOE322")),
        "logout revoked the refresh token too: {body}"
    );

    // The log proves what happened, with every secret masked.
    let token_calls = emulator.requests().to_path("/oauth/token");
    assert_eq!(token_calls.len(), 3, "exchange, refresh, refused refresh");
    assert_eq!(
        token_calls[0].param("code"),
        Some(kakao_emulator::MASK),
        "codes are masked in the log"
    );
    assert_eq!(
        token_calls[0].param("code_verifier"),
        Some(kakao_emulator::MASK),
        "verifiers are masked"
    );
    emulator.shutdown().await;
    Ok(())
}

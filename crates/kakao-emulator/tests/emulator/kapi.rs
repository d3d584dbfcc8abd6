//! kapi: bearer rules, `/v2/user/me` omission rules, token info, logout,
//! unlink and OIDC userinfo.

use std::time::Duration;

use crate::rig::*;
use kakao_emulator::{EmulatorConfig, fixture_ids};
use serde_json::json;

async fn token_for(user: i64) -> TestResult<(kakao_emulator::RunningEmulator, String)> {
    let emulator = start(EmulatorConfig {
        auto_consent: Some(user),
        ..config()
    })
    .await?;
    let tokens = login(&emulator).await?;
    let access = str_field(&tokens, "access_token")?.to_owned();
    Ok((emulator, access))
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_are_minus_401() -> TestResult {
    let emulator = emulator().await?;
    let response = get(emulator.url("/v2/user/me")).await?;
    assert_eq!(response.status(), 401, "no Authorization header is -401");
    assert_eq!(
        content_type(response.headers()),
        JSON_UTF8,
        "kapi errors are JSON"
    );
    assert_eq!(
        json(&response.text().await.unwrap_or_default())?,
        json!({"msg": "this access token does not exist", "code": -401}),
        "Kakao's body for a missing token"
    );
    let (status, _, body) = kapi_get(&emulator, "/v2/user/me", "made-up").await?;
    assert_eq!(
        (status, json(&body)?),
        (
            401,
            json!({"msg": "this access token does not exist", "code": -401})
        ),
        "an unknown token is -401"
    );
    let tokens = login(&emulator).await?;
    emulator.clock().advance(Duration::from_secs(6 * 3600));
    let (status, _, body) = kapi_get(
        &emulator,
        "/v2/user/me",
        str_field(&tokens, "access_token")?,
    )
    .await?;
    assert_eq!(
        (status, json(&body)?),
        (
            401,
            json!({"msg": "this access token is already expired", "code": -401})
        ),
        "after 6 h the token is expired, with Kakao's other -401 text"
    );
    Ok(())
}

#[tokio::test]
async fn expired_access_tokens_are_minus_401_and_refresh_still_works() -> TestResult {
    let emulator = emulator().await?;
    let tokens = login(&emulator).await?;
    let access = str_field(&tokens, "access_token")?;
    let (status, _, _) = kapi_get(&emulator, "/v2/user/me", access).await?;
    assert_eq!(status, 200, "a fresh token works");
    let before = emulator.clock().now();
    emulator.expire_access_tokens();
    assert_eq!(emulator.clock().now(), before, "the clock did not move");
    let (status, _, body) = kapi_get(&emulator, "/v2/user/me", access).await?;
    assert_eq!(
        (status, json(&body)?["code"].clone()),
        (401, json!(-401)),
        "an expired token is -401"
    );
    let (status, _, refreshed) =
        refresh_with(&emulator, str_field(&tokens, "refresh_token")?).await?;
    assert_eq!(status, 200, "the refresh token is not touched: {refreshed}");
    let (status, _, _) = kapi_get(
        &emulator,
        "/v2/user/me",
        str_field(&refreshed, "access_token")?,
    )
    .await?;
    assert_eq!(status, 200, "the refreshed token works");
    Ok(())
}

#[tokio::test]
async fn every_issued_code_and_token_is_listed_for_leak_scans() -> TestResult {
    let emulator = emulator().await?;
    assert!(emulator.issued_secrets().is_empty());
    let code = authorize_code(&emulator).await?;
    let (_, _, tokens) = exchange(&emulator, &code).await?;
    let (_, _, refreshed) = refresh_with(&emulator, str_field(&tokens, "refresh_token")?).await?;
    let secrets = emulator.issued_secrets();
    for (body, field) in [
        (&tokens, "access_token"),
        (&tokens, "refresh_token"),
        (&tokens, "id_token"),
        (&refreshed, "access_token"),
        (&refreshed, "id_token"),
    ] {
        let value = str_field(body, field)?;
        assert!(
            secrets.iter().any(|s| s == value),
            "{field} is missing from the list"
        );
    }
    assert_eq!(secrets[0], code, "the authorization code is listed first");
    assert_eq!(secrets.len(), 6, "code, 3 tokens at login, 2 at refresh");
    Ok(())
}

#[tokio::test]
async fn user_me_returns_the_fixture_with_omissions_and_no_nulls() -> TestResult {
    let (emulator, access) = token_for(fixture_ids::BIRTHDAY_NOT_CONSENTED).await?;
    let (status, _, body) = kapi_get(&emulator, "/v2/user/me", &access).await?;
    assert_eq!(status, 200, "a valid token reads the user");
    assert!(
        !body.contains("null"),
        "Kakao omits fields, never sends null: {body}"
    );
    let user = json(&body)?;
    assert_eq!(
        user["kakao_account"]["birthday_needs_agreement"], true,
        "configured but not agreed"
    );
    assert!(
        user["kakao_account"].get("birthday").is_none(),
        "so the value is absent"
    );

    let (emulator, access) = token_for(fixture_ids::NO_PROFILE_CONSENT).await?;
    let (_, _, body) = kapi_get(&emulator, "/v2/user/me", &access).await?;
    let user = json(&body)?;
    assert!(
        user["kakao_account"].get("profile").is_none(),
        "no profile consent, no profile object"
    );
    assert_eq!(
        user["kakao_account"]["profile_nickname_needs_agreement"], true,
        "and the flag says why"
    );
    Ok(())
}

#[tokio::test]
async fn user_me_images_are_served_by_the_emulator() -> TestResult {
    let (emulator, access) = token_for(fixture_ids::DEFAULT_PROFILE_IMAGE).await?;
    let (_, _, body) = kapi_get(&emulator, "/v2/user/me?secure_resource=true", &access).await?;
    let user = json(&body)?;
    let profile = &user["kakao_account"]["profile"];
    assert_eq!(
        profile["is_default_image"], true,
        "the default-image fixture says so"
    );
    let thumbnail = str_field(profile, "thumbnail_image_url")?;
    assert_eq!(
        thumbnail,
        format!("{}/images/default_110x110.png", emulator.base_url()),
        "image URLs point at the emulator itself"
    );
    let response = get(thumbnail).await?;
    assert_eq!(response.status(), 200, "the emulator serves the thumbnail");
    assert_eq!(content_type(response.headers()), "image/png", "as a PNG");
    let bytes = response.bytes().await.unwrap_or_default();
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "a real PNG, so an avatar cache can decode it"
    );
    let missing = get(emulator.url("/images/nope.png")).await?;
    assert_eq!(missing.status(), 404, "unknown images are 404");
    Ok(())
}

#[tokio::test]
async fn user_me_by_post_with_property_keys() -> TestResult {
    let (emulator, access) = token_for(fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR).await?;
    let response = client()?
        .post(emulator.url("/v2/user/me"))
        .bearer_auth(&access)
        .form(&[
            ("property_keys", r#"["kakao_account.birthday"]"#),
            ("secure_resource", "true"),
        ])
        .send()
        .await?;
    assert_eq!(response.status(), 200, "POST is allowed with a form body");
    assert_eq!(
        json(&response.text().await.unwrap_or_default())?,
        json!({"id": fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR, "connected_at": "2023-10-12T21:27:02Z",
            "kakao_account": {"birthday_needs_agreement": false, "birthday": "1130", "birthday_type": "SOLAR",
                "is_leap_month": false, "birthyear_needs_agreement": false, "birthyear": "1990"}}),
        "property_keys selects the birthday group only"
    );
    let (status, _, body) = kapi_get(&emulator, "/v2/user/me?property_keys=oops", &access).await?;
    assert_eq!(
        (status, json(&body)?),
        (400, json!({"msg": "invalid request parameter", "code": -2})),
        "malformed property_keys is -2"
    );
    Ok(())
}

#[tokio::test]
async fn access_token_info_reports_remaining_lifetime() -> TestResult {
    let (emulator, access) = token_for(fixture_ids::NINETEEN_DIGIT_ID).await?;
    emulator.clock().advance(Duration::from_secs(600));
    let (status, headers, body) =
        kapi_get(&emulator, "/v1/user/access_token_info", &access).await?;
    assert_eq!(status, 200, "a valid token has info");
    assert_eq!(
        content_type(&headers),
        JSON_UTF8,
        "Kakao's JSON content type"
    );
    assert!(
        body.contains("\"id\":1376016924426111111"),
        "the id is an exact integer: {body}"
    );
    assert_eq!(
        json(&body)?,
        json!({"id": fixture_ids::NINETEEN_DIGIT_ID, "expires_in": 20_999, "app_id": 1_234_567}),
        "expires_in is the remaining time (21600 - 600, minus Kakao's one second)"
    );
    Ok(())
}

#[tokio::test]
async fn unlink_revokes_tokens_and_forgets_consent() -> TestResult {
    let (emulator, access) = token_for(fixture_ids::EMOJI_NICKNAME).await?;
    let (status, _, body) = kapi_post(&emulator, "/v1/user/unlink", &access).await?;
    assert_eq!(
        (status, json(&body)?),
        (200, json!({"id": fixture_ids::EMOJI_NICKNAME})),
        "unlink answers the id"
    );
    let (status, _, _) = kapi_get(&emulator, "/v2/user/me", &access).await?;
    assert_eq!(status, 401, "unlink revoked the token");
    let (status, headers) = client()?
        .get(authorize_url(&emulator, "&prompt=none"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r.headers().clone()))?;
    assert_eq!(status, 302, "prompt=none redirects");
    assert_eq!(
        query_param(&location(&headers)?, "error").as_deref(),
        Some("consent_required"),
        "after unlink the user must consent again"
    );
    Ok(())
}

#[tokio::test]
async fn oidc_userinfo_has_consented_claims() -> TestResult {
    let (emulator, access) = token_for(fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR).await?;
    let (status, _, body) = kapi_get(&emulator, "/v1/oidc/userinfo", &access).await?;
    assert_eq!(status, 200, "userinfo answers with a bearer token");
    assert_eq!(
        json(&body)?,
        json!({"sub": "3095134389", "name": "박양력", "nickname": "박양력",
            "picture": format!("{}/images/mint_110x110.png", emulator.base_url()),
            "email": "solar.park@example.com", "email_verified": true, "gender": "FEMALE",
            "birthdate": "1990-11-30", "phone_number": "+82 10-1234-5678", "phone_number_verified": true}),
        "the documented claims, sub as a string"
    );
    Ok(())
}

#[tokio::test]
async fn hangul_and_emoji_nickname_survive_utf8() -> TestResult {
    let (emulator, access) = token_for(fixture_ids::EMOJI_NICKNAME).await?;
    let (_, _, body) = kapi_get(&emulator, "/v2/user/me", &access).await?;
    assert_eq!(
        json(&body)?["kakao_account"]["profile"]["nickname"],
        "라이언 🦁✨",
        "the nickname arrives byte-exact in UTF-8"
    );
    Ok(())
}

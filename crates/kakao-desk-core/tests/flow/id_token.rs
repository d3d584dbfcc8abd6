//! id_token verification against the emulator's discovery document and JWKS:
//! nonce, audience, expiry, and the once-a-minute JWKS re-fetch on an unknown
//! `kid`.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kakao_desk_core::ErrorCode;
use kakao_desk_core::authorize::{LoginOptions, begin};
use kakao_desk_core::clock::{Clock as _, unix_seconds};
use kakao_desk_core::kakao::KakaoClient;
use kakao_desk_core::oidc::{IdTokenVerifier, LEEWAY, OidcError};
use kakao_desk_core::secret::{AuthorizationCode, IdToken, Nonce};

use crate::rig::*;

/// A real id_token, issued for a login begun outside the login, with the
/// nonce it must carry.
async fn issued_id_token(rig: &Rig, client: &KakaoClient) -> TestResult<(IdToken, Nonce)> {
    let start = begin(&rig.config, &LoginOptions::default(), rig.clock.now())?;
    let location = rig.authorize(start.url.secret()).await?;
    let code = query(&location, "code").ok_or("a code")?;
    let tokens = client
        .exchange_code(
            &AuthorizationCode::new(code),
            start.pending.verifier(),
            start.pending.redirect_uri(),
        )
        .await?;
    let nonce = Nonce::new(query(start.url.secret().as_str(), "nonce").ok_or("a nonce")?);
    Ok((tokens.id_token.ok_or("OIDC is on in the emulator")?, nonce))
}

#[tokio::test]
async fn a_genuine_id_token_verifies_and_a_wrong_nonce_audience_or_time_does_not() -> TestResult {
    let rig = Rig::new().await?;
    let client = KakaoClient::new(&rig.config, rig.client)?;
    let (token, nonce) = issued_id_token(&rig, &client).await?;
    let verifier = IdTokenVerifier::new(rig.config.auth_base_url.clone());
    let claims = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, &*rig.clock)
        .await
        .map_err(|e| format!("a genuine token verifies: {e}"))?;
    assert_eq!(
        claims.sub, "1376016924426111111",
        "sub is the Kakao id as a string"
    );

    let wrong_nonce = verifier
        .verify(
            &client,
            &token,
            &rig.config.client_id,
            &Nonce::new("other"),
            &*rig.clock,
        )
        .await;
    assert_eq!(
        wrong_nonce.err(),
        Some(OidcError::NonceMismatch),
        "a token from another login is refused"
    );
    let wrong_aud = verifier
        .verify(&client, &token, "another-app", &nonce, &*rig.clock)
        .await;
    assert_eq!(
        wrong_aud.as_ref().err(),
        Some(&OidcError::Audience),
        "aud must be our client id"
    );
    assert_eq!(
        wrong_aud.err().map(|e| e.code()),
        Some(ErrorCode::KakaoConfig)
    );
    let tampered_token = {
        let mut tampered = token.secret().to_owned();
        let last = tampered
            .pop()
            .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
        tampered.push(last);
        IdToken::new(tampered)
    };
    rig.clock.advance(Duration::from_secs(6 * 3600) + LEEWAY);
    let expired = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, &*rig.clock)
        .await;
    assert_eq!(
        expired.err(),
        Some(OidcError::Expired),
        "exp is checked by the injected clock, with the leeway"
    );

    let forged = verifier
        .verify(
            &client,
            &tampered_token,
            &rig.config.client_id,
            &nonce,
            &*rig.clock,
        )
        .await;
    assert!(
        matches!(forged, Err(OidcError::Invalid(_) | OidcError::Malformed)),
        "a bad signature fails"
    );

    assert_eq!(
        rig.requests("/.well-known/openid-configuration").len(),
        1,
        "discovery is cached"
    );
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "the JWKS is cached by kid"
    );
    Ok(())
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_jwks_at_most_once_a_minute() -> TestResult {
    let rig = Rig::new().await?;
    let client = KakaoClient::new(&rig.config, rig.client)?;
    let verifier = IdTokenVerifier::new(rig.config.auth_base_url.clone());
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"rotated-away"}"#);
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"1","exp":9999999999}"#);
    let token = IdToken::new(format!("{header}.{payload}.c2ln"));
    let nonce = Nonce::new("n");

    let first = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, &*rig.clock)
        .await;
    assert_eq!(first.err(), Some(OidcError::UnknownKey), "no such key");
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "an unknown kid fetches the JWKS"
    );
    rig.clock.advance(Duration::from_secs(59));
    let second = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, &*rig.clock)
        .await;
    assert_eq!(second.err(), Some(OidcError::UnknownKey));
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "not again within a minute (Kakao blocks floods)"
    );
    // Setting the wall clock back does not lift the limit.
    rig.clock.set(rig.clock.now() - Duration::from_secs(3600));
    let set_back = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, &*rig.clock)
        .await;
    assert_eq!(set_back.err(), Some(OidcError::UnknownKey));
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "the limit runs on monotonic time: a wall clock set back cannot lift it"
    );
    rig.clock.advance(Duration::from_secs(1));
    let third = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, &*rig.clock)
        .await;
    assert_eq!(third.err(), Some(OidcError::UnknownKey));
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        2,
        "after a minute, one more fetch"
    );

    let none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","kid":"k"}"#)
    );
    let refused = verifier
        .verify(
            &client,
            &IdToken::new(none),
            &rig.config.client_id,
            &nonce,
            &*rig.clock,
        )
        .await;
    assert_eq!(
        refused.err(),
        Some(OidcError::Algorithm),
        "only RS256, whatever the header says"
    );
    Ok(())
}

/// Claims as the emulator's own id_tokens carry them, for a token signed by
/// its key but altered in one way.
fn claims(rig: &Rig, nonce: &str) -> serde_json::Value {
    let iat = unix_seconds(rig.clock.now());
    serde_json::json!({
        "iss": rig.emulator.base_url(),
        "aud": rig.config.client_id,
        "sub": NINETEEN,
        "iat": iat,
        "exp": iat + 21_600,
        "auth_time": iat,
        "nonce": nonce,
    })
}

#[tokio::test]
async fn a_token_signed_by_kakaos_key_is_still_checked_claim_by_claim() -> TestResult {
    let rig = Rig::new().await?;
    let client = KakaoClient::new(&rig.config, rig.client)?;
    let verifier = IdTokenVerifier::new(rig.config.auth_base_url.clone());
    let nonce = Nonce::new("n-1");
    let check = |claims: serde_json::Value| {
        let token = rig.emulator.sign_jwt(&claims).map(IdToken::new);
        let verifier = &verifier;
        let client = &client;
        let nonce = &nonce;
        let rig = &rig;
        async move {
            verifier
                .verify(client, &token?, &rig.config.client_id, nonce, &*rig.clock)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let genuine = claims(&rig, "n-1");
    check(genuine.clone())
        .await
        .map_err(|e| format!("the emulator's own claims verify: {e}"))?;

    let mut no_iat = genuine.clone();
    no_iat.as_object_mut().ok_or("claims")?.remove("iat");
    assert!(check(no_iat).await.is_err(), "iat is required");

    let mut future = genuine.clone();
    future["iat"] = (unix_seconds(rig.clock.now()) + 3_600).into();
    assert!(
        check(future).await.is_err(),
        "a token issued in the future (beyond the leeway) is refused"
    );
    let mut skewed = genuine.clone();
    skewed["iat"] = (unix_seconds(rig.clock.now()) + 30).into();
    check(skewed)
        .await
        .map_err(|e| format!("thirty seconds of clock skew are tolerated: {e}"))?;

    let mut shared = genuine.clone();
    shared["aud"] = serde_json::json!([rig.config.client_id, "another-app"]);
    assert!(
        check(shared.clone()).await.is_err(),
        "several audiences need azp to name this app"
    );
    shared["azp"] = rig.config.client_id.clone().into();
    check(shared)
        .await
        .map_err(|e| format!("with azp it verifies: {e}"))?;

    let mut just_expired = genuine.clone();
    just_expired["exp"] = (unix_seconds(rig.clock.now()) - 30).into();
    check(just_expired)
        .await
        .map_err(|e| format!("an exp thirty seconds ago is within the leeway: {e}"))?;

    let mut other_issuer = genuine;
    other_issuer["iss"] = "https://kauth.kakao.com".into();
    assert!(
        check(other_issuer).await.is_err(),
        "the issuer must be the configured host"
    );
    Ok(())
}

#[tokio::test]
async fn a_discovery_document_of_another_host_is_refused() -> TestResult {
    let rig = Rig::new().await?;
    let client = KakaoClient::new(&rig.config, rig.client)?;
    let (token, nonce) = issued_id_token(&rig, &client).await?;
    // The verifier expects Kakao itself; the client reaches the emulator,
    // whose discovery document names the emulator as issuer.
    let kakao =
        kakao_desk_core::config::BaseUrl::parse("KAKAO_AUTH_BASE_URL", "https://kauth.kakao.com")?;
    let verifier = IdTokenVerifier::new(kakao);
    let refused = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, &*rig.clock)
        .await;
    assert_eq!(
        refused.err(),
        Some(OidcError::Discovery),
        "whoever serves the discovery document must not pick the trusted issuer"
    );
    assert!(
        rig.requests("/.well-known/jwks.json").is_empty(),
        "no keys are fetched from a document that does not belong"
    );
    Ok(())
}

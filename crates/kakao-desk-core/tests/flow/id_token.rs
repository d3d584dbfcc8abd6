//! id_token verification against the emulator's discovery document and JWKS:
//! nonce, audience, expiry, and the once-a-minute JWKS re-fetch on an unknown
//! `kid`.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kakao_desk_core::ErrorCode;
use kakao_desk_core::authorize::{LoginOptions, begin};
use kakao_desk_core::clock::Clock as _;
use kakao_desk_core::kakao::KakaoClient;
use kakao_desk_core::oidc::{IdTokenVerifier, OidcError};
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
    let verifier = IdTokenVerifier::new();
    let now = rig.clock.now();
    let claims = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, now)
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
            now,
        )
        .await;
    assert_eq!(
        wrong_nonce.err(),
        Some(OidcError::NonceMismatch),
        "a token from another login is refused"
    );
    let wrong_aud = verifier
        .verify(&client, &token, "another-app", &nonce, now)
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
    let late = now + Duration::from_secs(6 * 3600);
    let expired = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, late)
        .await;
    assert_eq!(
        expired.err(),
        Some(OidcError::Expired),
        "exp is checked by the injected clock"
    );

    let mut tampered = token.secret().to_owned();
    let last = tampered
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    tampered.push(last);
    let forged = verifier
        .verify(
            &client,
            &IdToken::new(tampered),
            &rig.config.client_id,
            &nonce,
            now,
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
    let verifier = IdTokenVerifier::new();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"rotated-away"}"#);
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"1","exp":9999999999}"#);
    let token = IdToken::new(format!("{header}.{payload}.c2ln"));
    let nonce = Nonce::new("n");
    let at = |s| rig.clock.now() + Duration::from_secs(s);

    let first = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, at(0))
        .await;
    assert_eq!(first.err(), Some(OidcError::UnknownKey), "no such key");
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "an unknown kid fetches the JWKS"
    );
    let second = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, at(59))
        .await;
    assert_eq!(second.err(), Some(OidcError::UnknownKey));
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "not again within a minute (Kakao blocks floods)"
    );
    let third = verifier
        .verify(&client, &token, &rig.config.client_id, &nonce, at(60))
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
            at(61),
        )
        .await;
    assert_eq!(
        refused.err(),
        Some(OidcError::Algorithm),
        "only RS256, whatever the header says"
    );
    Ok(())
}

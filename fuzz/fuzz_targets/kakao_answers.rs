//! Decoding of every Kakao answer the core reads, through the functions the
//! client itself calls: token (code exchange and refresh), `/v2/user/me` and
//! the profile normalisation and birthday parsing behind it,
//! `access_token_info`, the error bodies of both hosts, discovery and JWKS.
//!
//! Input: one byte choosing the answer, one choosing the HTTP status, then
//! the body.

#![no_main]

use jsonwebtoken::jwk::JwkSet;
use kakao_desk_core::birthday::Birthday;
use kakao_desk_core::config::BaseUrl;
use kakao_desk_core::kakao::user_me::UserMeResponse;
use kakao_desk_core::kakao::{
    self, AccessTokenInfo, Discovery, KakaoError, MAX_TOKEN_LIFETIME_SECS, TokenSet,
};
use kakao_desk_core::oidc::KeySet;
use kakao_desk_core::profile::KakaoProfile;
use libfuzzer_sys::fuzz_target;

/// Statuses Kakao answers with (`docs/kakao-api.md` §6).
const STATUSES: [u16; 8] = [200, 400, 401, 403, 404, 429, 500, 502];

fuzz_target!(|input: &[u8]| {
    let [kind, status, body @ ..] = input else {
        return;
    };
    let status = STATUSES[usize::from(*status) % STATUSES.len()];
    match kind % 6 {
        0 => token(status, body),
        1 => user_me(status, body),
        2 => check_error(kakao::decode_answer::<AccessTokenInfo>(status, body)),
        3 => discovery(status, body),
        4 => jwks(status, body),
        _ => check_error(kakao::decode_answer::<serde_json::Value>(status, body)),
    }
});

fn token(status: u16, body: &[u8]) {
    match kakao::decode_token_answer(status, body) {
        Ok(TokenSet {
            expires_in,
            refresh_token_expires_in,
            ..
        }) => {
            assert!((1..=MAX_TOKEN_LIFETIME_SECS).contains(&expires_in));
            if let Some(lifetime) = refresh_token_expires_in {
                assert!((1..=MAX_TOKEN_LIFETIME_SECS).contains(&lifetime));
            }
        }
        Err(error) => check(&error),
    }
}

fn user_me(status: u16, body: &[u8]) {
    let me = match kakao::decode_answer::<UserMeResponse>(status, body) {
        Ok(me) => me,
        Err(error) => return check(&error),
    };
    let (profile, _warnings) = KakaoProfile::from_user_me(&me);
    for url in [&profile.thumbnail_url, &profile.profile_image_url]
        .into_iter()
        .flatten()
    {
        assert!(matches!(url.scheme(), "http" | "https"), "{url}");
    }
    if let Some(birthday) = profile.birthday {
        // The cache stores the ISO form; it must read back as the same date.
        let back = Birthday::from_iso(
            &birthday.to_iso(),
            birthday.calendar(),
            birthday.is_leap_month(),
        );
        assert_eq!(back, Ok(birthday));
    }
    serde_json::to_vec(&profile.to_public()).expect("a public profile serializes");
}

fn discovery(status: u16, body: &[u8]) {
    let base = BaseUrl::parse("KAKAO_AUTH_BASE_URL", "https://kauth.kakao.com").expect("base");
    match kakao::decode_answer::<Discovery>(status, body) {
        Ok(discovery) => {
            if KeySet::for_discovery(&discovery, &base).is_ok() {
                assert_eq!(
                    discovery.issuer.trim_end_matches('/'),
                    "https://kauth.kakao.com"
                );
            }
        }
        Err(error) => check(&error),
    }
}

fn jwks(status: u16, body: &[u8]) {
    let base = BaseUrl::parse("KAKAO_AUTH_BASE_URL", "https://kauth.kakao.com").expect("base");
    let discovery: Discovery = serde_json::from_str(
        r#"{"issuer":"https://kauth.kakao.com","jwks_uri":"https://kauth.kakao.com/.well-known/jwks.json"}"#,
    )
    .expect("discovery");
    match kakao::decode_answer::<JwkSet>(status, body) {
        Ok(set) => {
            let mut keys = KeySet::for_discovery(&discovery, &base).expect("Kakao's discovery");
            keys.replace_keys(&set);
        }
        Err(error) => check(&error),
    }
}

fn check_error<T>(result: Result<T, KakaoError>) {
    if let Err(error) = result {
        check(&error);
    }
}

/// Every error has a stable code and a Kakao code safe to log: ASCII word
/// characters, bounded.
fn check(error: &KakaoError) {
    let _ = error.code();
    let code = error.kakao_code();
    assert!(code.len() <= 40, "{code:?}");
    assert!(
        code.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ' ')),
        "{code:?}"
    );
}

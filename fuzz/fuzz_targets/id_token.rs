//! id_token handling up to and including signature verification: header
//! (`alg`, `kid`), kid lookup in a fixed JWKS, claims (`iss`, `aud`, `azp`,
//! `exp`, `iat`, `nonce`), at a fixed time.
//!
//! Input: the compact JWS as the token endpoint's `id_token` carries it.
//! The seeds are signed by the key whose public half is `fixtures/jwks.json`.

#![no_main]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use jsonwebtoken::jwk::JwkSet;
use kakao_desk_core::config::BaseUrl;
use kakao_desk_core::kakao::Discovery;
use kakao_desk_core::oidc::KeySet;
use kakao_desk_core::secret::{IdToken, Nonce};
use libfuzzer_sys::fuzz_target;

/// When the seeds' tokens are valid (`examples/make_seeds.rs`).
const NOW: u64 = 1_800_000_000;

static KEYS: LazyLock<KeySet> = LazyLock::new(|| {
    let base = BaseUrl::parse("KAKAO_AUTH_BASE_URL", "https://kauth.kakao.com").expect("base");
    let discovery: Discovery = serde_json::from_str(
        r#"{"issuer":"https://kauth.kakao.com","jwks_uri":"https://kauth.kakao.com/.well-known/jwks.json"}"#,
    )
    .expect("discovery");
    let mut keys = KeySet::for_discovery(&discovery, &base).expect("Kakao's discovery");
    let set: JwkSet = serde_json::from_str(include_str!("../fixtures/jwks.json")).expect("JWKS");
    keys.replace_keys(&set);
    // The fixture and the seeds belong together: the valid seed must pass,
    // or the fuzzer would never get past the signature.
    let valid = include_str!("../seeds/id_token/valid");
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
    keys.verify(
        &IdToken::new(valid),
        "fuzz-client",
        &Nonce::new("fuzz-nonce"),
        now,
    )
    .expect("the valid seed verifies against fixtures/jwks.json");
    keys
});

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
    match KEYS.verify(
        &IdToken::new(text),
        "fuzz-client",
        &Nonce::new("fuzz-nonce"),
        now,
    ) {
        Ok(claims) => {
            // Only the seeds' key signs; what passes is a token it signed for
            // this app and this login, current at `now` within the leeway.
            let now = i64::try_from(NOW).expect("small");
            assert!(
                claims.exp + 60 > now && claims.iat <= now + 60,
                "{claims:?}"
            );
        }
        Err(error) => {
            let _ = error.code();
        }
    }
});

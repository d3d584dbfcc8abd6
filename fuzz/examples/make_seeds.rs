//! Writes the committed seed corpora in `fuzz/seeds/<target>/`: real-shaped
//! inputs of each fuzz target, taken from `docs/kakao-api.md`. Run from
//! `fuzz/` with `cargo +nightly run --example make_seeds` after changing an
//! input format; the seeds are committed so a fuzz run needs no generation.
//!
//! The id_token seeds are signed with an RSA key generated for this run and
//! dropped when it ends: only its public half (`fixtures/jwks.json`) is
//! written, so there is no private key to mistake for a secret.

use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

/// The time the id_token target verifies at (see `fuzz_targets/id_token.rs`).
const NOW: i64 = 1_800_000_000;
const KID: &str = "3f96980381e451efad0d2ddd30e3d3";

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    deep_link(&root.join("seeds/deep_link"));
    loopback_request(&root.join("seeds/loopback_request"));
    kakao_answers(&root.join("seeds/kakao_answers"));
    id_token(root);
    vault_envelope(&root.join("seeds/vault_envelope"));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::create_dir_all(dir).expect("seed directory");
    fs::write(dir.join(name), bytes).expect("seed file");
}

fn with_flag(flag: u8, rest: &str) -> Vec<u8> {
    let mut bytes = vec![flag];
    bytes.extend_from_slice(rest.as_bytes());
    bytes
}

fn deep_link(dir: &Path) {
    let links = [
        (
            "code",
            "dev.kakaodesk.desktop://oauth/callback?code=Vg1k8Yb2cN3iF7pQ0rT5uW&state=STATE",
        ),
        (
            "cancel",
            "dev.kakaodesk.desktop://oauth/callback?error=access_denied&error_description=User%20denied%20access&state=STATE",
        ),
        (
            "refused",
            "dev.kakaodesk.desktop://oauth/callback?error=invalid_scope&error_description=invalid%20scope&state=STATE",
        ),
        (
            "no-state",
            "dev.kakaodesk.desktop://oauth/callback?code=abc",
        ),
        (
            "repeat",
            "dev.kakaodesk.desktop://oauth/callback?code=a&code=b&state=STATE",
        ),
        (
            "foreign",
            "https://evil.example/oauth/callback?code=a&state=STATE",
        ),
        (
            "upper",
            "DEV.KAKAODESK.DESKTOP://oauth/callback?code=a&state=STATE",
        ),
        (
            "user",
            "dev.kakaodesk.desktop://me@oauth/callback?code=a&state=STATE",
        ),
        (
            "fragment",
            "dev.kakaodesk.desktop://oauth/callback?code=a&state=STATE#x",
        ),
        (
            "encoded",
            "dev.kakaodesk.desktop://oauth/callback?code=%41%42&state=STATE&extra=%ED%95%9C",
        ),
    ];
    for (name, link) in links {
        for (suffix, flag) in [("", 1_u8), ("-none", 0), ("-late", 3), ("-loopback", 5)] {
            write(dir, &format!("{name}{suffix}"), &with_flag(flag, link));
        }
    }
}

fn loopback_request(dir: &Path) {
    let heads = [
        (
            "chrome",
            "GET /oauth/callback?code=Vg1k8Yb2cN3iF7pQ0rT5uW&state=STATE HTTP/1.1\r\nHost: 127.0.0.1:53682\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml\r\nSec-Fetch-Site: cross-site\r\nAccept-Language: ko-KR,ko;q=0.9,en;q=0.8\r\n\r\n",
        ),
        (
            "firefox-cancel",
            "GET /oauth/callback?error=access_denied&error_description=User%20denied%20access&state=STATE HTTP/1.1\r\nHost: 127.0.0.1:53682\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\r\n",
        ),
        (
            "favicon",
            "GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:53682\r\n\r\n",
        ),
        (
            "post",
            "POST /oauth/callback HTTP/1.1\r\nHost: 127.0.0.1:53682\r\nContent-Length: 6\r\n\r\ncode=a",
        ),
        (
            "http10",
            "GET /oauth/callback?code=a&state=STATE HTTP/1.0\r\n\r\n",
        ),
        (
            "absolute",
            "GET http://127.0.0.1:53682/oauth/callback?code=a&state=STATE HTTP/1.1\r\n\r\n",
        ),
        (
            "fragment",
            "GET /oauth/callback?code=a&state=STATE#frag HTTP/1.1\r\n\r\n",
        ),
        ("no-state", "GET /oauth/callback?code=a HTTP/1.1\r\n\r\n"),
    ];
    for (name, head) in heads {
        for (suffix, flag) in [("", 1_u8), ("-none", 0), ("-late", 3), ("-bridge", 5)] {
            write(dir, &format!("{name}{suffix}"), &with_flag(flag, head));
        }
    }
}

/// Kind bytes and status indexes of `fuzz_targets/kakao_answers.rs`.
fn answer(kind: u8, status_index: u8, body: &Value) -> Vec<u8> {
    let mut bytes = vec![kind, status_index];
    bytes.extend_from_slice(serde_json::to_string_pretty(body).expect("json").as_bytes());
    bytes
}

fn kakao_answers(dir: &Path) {
    let (ok, bad_request, unauthorized, forbidden, server_error) = (0, 1, 2, 3, 6);
    let cases = [
        (
            "token",
            answer(
                0,
                ok,
                &json!({
                    "token_type": "bearer",
                    "access_token": "pR0Zf1yx5vR7jXl8dJ5mEuH6w3qD2sGk",
                    "expires_in": 21599,
                    "refresh_token": "mT2a5Yx8hZkqJ7w3dV4eLrN1sB6gC9uF",
                    "refresh_token_expires_in": 5183999,
                    "id_token": "eyJraWQiOiIzZjk2OTgwMzgxZTQ1MWVmYWQwZDJkZGQzMGUzZDMiLCJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln",
                    "scope": "openid profile_nickname profile_image"
                }),
            ),
        ),
        (
            "refresh",
            answer(
                0,
                ok,
                &json!({
                    "token_type": "bearer",
                    "access_token": "pR0Zf1yx5vR7jXl8dJ5mEuH6w3qD2sGk",
                    "expires_in": 21599
                }),
            ),
        ),
        (
            "token-huge",
            answer(
                0,
                ok,
                &json!({
                    "token_type": "bearer", "access_token": "a", "expires_in": 18446744073709551615_u64
                }),
            ),
        ),
        (
            "koe320",
            answer(
                0,
                bad_request,
                &json!({
                    "error": "invalid_grant",
                    "error_description": "authorization code not found for code=…",
                    "error_code": "KOE320"
                }),
            ),
        ),
        (
            "koe237",
            answer(
                0,
                bad_request,
                &json!({
                    "error": "invalid_request", "error_description": "token request rate limit exceeded", "error_code": "KOE237"
                }),
            ),
        ),
        (
            "user-me",
            answer(
                1,
                ok,
                &json!({
                    "id": 3_456_789_012_345_678_901_i64,
                    "connected_at": "2026-11-30T02:11:45Z",
                    "synched_at": "2026-11-30T02:11:45Z",
                    "properties": { "nickname": "라이언" },
                    "kakao_account": {
                        "profile_nickname_needs_agreement": false,
                        "profile_image_needs_agreement": false,
                        "profile": {
                            "nickname": "라이언",
                            "thumbnail_image_url": "https://k.kakaocdn.net/dn/abc/img_110x110.jpg",
                            "profile_image_url": "https://k.kakaocdn.net/dn/abc/img_640x640.jpg",
                            "is_default_image": false,
                            "is_default_nickname": false
                        },
                        "email_needs_agreement": false,
                        "is_email_valid": true,
                        "is_email_verified": true,
                        "email": "ryan@kakao.com",
                        "birthyear_needs_agreement": false,
                        "birthyear": "1996",
                        "birthday_needs_agreement": false,
                        "birthday": "0229",
                        "birthday_type": "LUNAR",
                        "is_leap_month": true
                    }
                }),
            ),
        ),
        (
            "user-me-legacy",
            answer(
                1,
                ok,
                &json!({
                    "id": 1234567890,
                    "kakao_account": {
                        "profile_needs_agreement": true,
                        "birthday_needs_agreement": false,
                        "birthday": "1301",
                        "birthday_type": "SOLAR"
                    }
                }),
            ),
        ),
        (
            "user-me-types",
            answer(
                1,
                ok,
                &json!({
                    "id": 1, "kakao_account": { "profile": { "nickname": 7, "thumbnail_image_url": "ftp://x" }, "birthday": 229 }
                }),
            ),
        ),
        (
            "minus401",
            answer(
                1,
                unauthorized,
                &json!({ "msg": "this access token does not exist", "code": -401 }),
            ),
        ),
        (
            "minus402",
            answer(
                1,
                forbidden,
                &json!({
                    "msg": "[KakaoAccount] insufficient scopes.", "code": -402,
                    "api_type": "USER_ME", "required_scopes": ["account_email"], "allowed_scopes": ["profile"]
                }),
            ),
        ),
        (
            "token-info",
            answer(
                2,
                ok,
                &json!({ "id": 3_456_789_012_345_678_901_i64, "expires_in": 7199, "app_id": 1_234_567 }),
            ),
        ),
        (
            "minus1",
            answer(
                2,
                server_error,
                &json!({ "msg": "internal error", "code": -1 }),
            ),
        ),
        (
            "discovery",
            answer(
                3,
                ok,
                &json!({
                    "issuer": "https://kauth.kakao.com",
                    "authorization_endpoint": "https://kauth.kakao.com/oauth/authorize",
                    "token_endpoint": "https://kauth.kakao.com/oauth/token",
                    "userinfo_endpoint": "https://kapi.kakao.com/v1/oidc/userinfo",
                    "jwks_uri": "https://kauth.kakao.com/.well-known/jwks.json",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"]
                }),
            ),
        ),
        (
            "discovery-foreign",
            answer(
                3,
                ok,
                &json!({
                    "issuer": "https://kauth.kakao.com", "jwks_uri": "https://keys.example/jwks.json",
                    "id_token_signing_alg_values_supported": ["RS256"]
                }),
            ),
        ),
        (
            "jwks",
            answer(
                4,
                ok,
                &json!({ "keys": [
                    { "kid": "3f96980381e451efad0d2ddd30e3d3", "kty": "RSA", "alg": "RS256", "use": "sig",
                      "n": "q8zZ0b_MNaLd6Ny8wd4cjFomilLfFIZcmhNSc1ttx_oQdJJZt5CDHB8WWwPGBUDUyY8AmfglS9Y1qA0_fxxs-ZUWdt45jSbUxghKNYgEwSutfM5sROh3srm5TiLW4YfOvKytGW1r9TQEdLe98ork8-rNRYPybRI3SKoqpci1m1QOcvUg4xEYRvbZIWku24DNMSeheytKUz6Ni4kKOVkzfGN11rUj1IrlRR-LNA9V9ZYmeoywy3k066rD5TaZHor5bM5gIzt1B4FmUuFITpXKGQZS5Hn_Ck8Bgc8kLWGAU8TzmOzLeROosqKE0eZJ4ESLMImTb2XSEZuN1wFyL0VtJw",
                      "e": "AQAB" },
                    { "kid": "9f252dadd5f233f93d2fa528d12fea", "kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB" },
                    { "kid": "ec", "kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }
                ]}),
            ),
        ),
        (
            "kauth-error",
            answer(
                5,
                bad_request,
                &json!({
                    "error": "invalid_client", "error_description": "Bad client credentials", "error_code": "KOE010"
                }),
            ),
        ),
        (
            "kapi-error",
            answer(
                5,
                server_error,
                &json!({ "msg": "system error", "code": -9798 }),
            ),
        ),
        ("html-502", {
            let mut bytes = vec![5, 7];
            bytes.extend_from_slice(b"<html><body><h1>502 Bad Gateway</h1></body></html>");
            bytes
        }),
    ];
    for (name, bytes) in cases {
        write(dir, name, &bytes);
    }
}

fn id_token(root: &Path) {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
    let der = private.to_pkcs1_der().expect("DER");
    let key = EncodingKey::from_rsa_der(der.as_bytes());
    let jwks = json!({ "keys": [
        {
            "kid": KID, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        },
        {
            "kid": "enc-key", "kty": "RSA", "alg": "RS256", "use": "enc",
            "n": URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        }
    ]});
    fs::create_dir_all(root.join("fixtures")).expect("fixtures");
    fs::write(
        root.join("fixtures/jwks.json"),
        serde_json::to_string_pretty(&jwks).expect("json") + "\n",
    )
    .expect("jwks");

    let claims = |extra: Value| {
        let mut base = json!({
            "aud": "fuzz-client",
            "sub": "3456789012345678901",
            "auth_time": NOW - 30,
            "iss": "https://kauth.kakao.com",
            "nickname": "라이언",
            "exp": NOW + 21_599,
            "iat": NOW - 30,
            "picture": "https://k.kakaocdn.net/dn/abc/img_110x110.jpg",
            "nonce": "fuzz-nonce",
        });
        for (name, value) in extra.as_object().expect("object") {
            if value.is_null() {
                base.as_object_mut().expect("object").remove(name);
            } else {
                base[name] = value.clone();
            }
        }
        base
    };
    let sign = |kid: Option<&str>, claims: &Value| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    };
    let dir = root.join("seeds/id_token");
    let cases = [
        ("valid", sign(Some(KID), &claims(json!({})))),
        (
            "expired",
            sign(Some(KID), &claims(json!({ "exp": NOW - 120 }))),
        ),
        (
            "future-iat",
            sign(Some(KID), &claims(json!({ "iat": NOW + 600 }))),
        ),
        ("no-iat", sign(Some(KID), &claims(json!({ "iat": null })))),
        (
            "wrong-nonce",
            sign(Some(KID), &claims(json!({ "nonce": "other" }))),
        ),
        (
            "no-nonce",
            sign(Some(KID), &claims(json!({ "nonce": null }))),
        ),
        (
            "wrong-aud",
            sign(Some(KID), &claims(json!({ "aud": "another-app" }))),
        ),
        (
            "many-aud-azp",
            sign(
                Some(KID),
                &claims(json!({ "aud": ["fuzz-client", "x"], "azp": "fuzz-client" })),
            ),
        ),
        (
            "many-aud",
            sign(Some(KID), &claims(json!({ "aud": ["fuzz-client", "x"] }))),
        ),
        (
            "wrong-iss",
            sign(
                Some(KID),
                &claims(json!({ "iss": "https://kauth.kakao.com.evil" })),
            ),
        ),
        ("unknown-kid", sign(Some("not-a-kid"), &claims(json!({})))),
        ("enc-kid", sign(Some("enc-key"), &claims(json!({})))),
        ("no-kid", sign(None, &claims(json!({})))),
        (
            "alg-none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{KID}"}}"#)),
                URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
            ),
        ),
        (
            "alg-hs256",
            format!(
                "{}.{}.c2lnbmF0dXJl",
                URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{KID}","typ":"JWT"}}"#)),
                URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
            ),
        ),
    ];
    for (name, token) in cases {
        write(&dir, name, token.as_bytes());
    }
}

fn vault_envelope(dir: &Path) {
    use kakao_desk_core::vault::{
        KeySource, MemoryKeySource, MemoryVaultStorage, Slot, Vault, VaultStorage,
    };
    use std::sync::Arc;

    // The vault target's key and app id (see `fuzz_targets/vault_envelope.rs`).
    let (key, _) = MemoryKeySource::with_key([7; 32])
        .load_or_create()
        .expect("key");
    let storage = Arc::new(MemoryVaultStorage::new());
    let vault = Vault::new(
        "dev.kakaodesk.desktop",
        key,
        Box::new(Shared(storage.clone())),
    );
    let record = br#"{"v":1,"session_jwt":"eyJhbGciOiJIUzI1NiJ9.e30.c2ln","kakao_id":"3456789012345678901","access_token":"pR0Zf1yx5vR7jXl8dJ5m","access_expires_at":1800021599,"refresh_token":"mT2a5Yx8hZkqJ7w3dV4e","refresh_expires_at":1805183999,"scopes":["openid","profile_nickname"]}"#;
    vault.save(record).expect("save");
    let one = storage.read(Slot::A).expect("read").expect("slot A");
    vault.save(record).expect("save");
    let two = storage.read(Slot::B).expect("read").expect("slot B");
    let framed = |flags: u8, a: &[u8], b: &[u8]| {
        let mut bytes = vec![flags];
        bytes.extend_from_slice(&u16::try_from(a.len()).expect("small").to_be_bytes());
        bytes.extend_from_slice(a);
        bytes.extend_from_slice(b);
        bytes
    };
    let mut torn = two.clone();
    torn.truncate(two.len() / 2);
    let mut flipped = two.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    write(dir, "one-slot", &framed(1, &one, &[]));
    write(dir, "two-slots", &framed(3, &one, &two));
    write(dir, "torn-newer", &framed(3, &one, &torn));
    write(dir, "flipped-newer", &framed(3, &one, &flipped));
    write(dir, "swapped", &framed(3, &two, &one));
    write(dir, "record", &{
        let mut bytes = vec![0x80];
        bytes.extend_from_slice(record);
        bytes
    });
}

/// A storage the generator can read back after the vault wrote to it.
#[derive(Debug)]
struct Shared(std::sync::Arc<kakao_desk_core::vault::MemoryVaultStorage>);

impl kakao_desk_core::vault::VaultStorage for Shared {
    fn read(&self, slot: kakao_desk_core::vault::Slot) -> std::io::Result<Option<Vec<u8>>> {
        self.0.read(slot)
    }
    fn write(&self, slot: kakao_desk_core::vault::Slot, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write(slot, bytes)
    }
    fn remove(&self, slot: kakao_desk_core::vault::Slot) -> std::io::Result<()> {
        self.0.remove(slot)
    }
    fn move_aside(&self, slot: kakao_desk_core::vault::Slot, tag: &str) -> std::io::Result<()> {
        self.0.move_aside(slot, tag)
    }
    fn remove_set_aside(&self) -> std::io::Result<()> {
        self.0.remove_set_aside()
    }
}

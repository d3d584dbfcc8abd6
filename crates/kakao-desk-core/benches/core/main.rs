//! Microbenchmarks of the core's operations, each through
//! the crate's public API on the real code path: the OS RNG, real files with
//! `fsync`, a real SQLite file, a real id_token from the Kakao emulator.
//!
//! | Group / function                 | What one iteration does (public API)                              |
//! |----------------------------------|-------------------------------------------------------------------|
//! | `login/begin_authorize_url`      | `authorize::begin`: PKCE verifier + S256 challenge, state, nonce, URL |
//! | `callback/intake_genuine`        | `callback::intake` of a genuine deep link → its `Callback`        |
//! | `callback/intake_forged_state`   | `callback::intake` refuses a forged link; the login keeps waiting |
//! | `vault/seal_open_memory`         | `Vault::save` + `Vault::load` of a session record, memory slots   |
//! | `vault/write_read_file`          | the same on slot files (temp file, `fsync`, rename, dir `fsync`)  |
//! | `profile_cache/upsert_read_file` | `ProfileCache::upsert_login` + `get` on a SQLite file (WAL)       |
//! | `birthday/from_kakao`            | `Birthday::from_kakao`: Kakao's MMDD, year and calendar → a date  |
//! | `oidc/verify_cached_jwks`        | `IdTokenVerifier::verify` of a real id_token, JWKS cached         |
//!
//! Run: `cargo bench -p kakao-desk-core` (criterion's options after `--`), or
//! `scripts/bench-core.sh` for a Markdown table of medians against the
//! project's goal (≤ 1 ms each, `BENCHMARKS.md`). Benchmarks never fail for
//! being slow; they only fail when an operation returns the wrong answer.
//!
//! No password-based key derivation (argon2, scrypt, PBKDF2, bcrypt) exists on
//! the login or start-up path, so none is benchmarked: the vault key is 32
//! random bytes kept in the OS keychain, and the session JWT key is HKDF-SHA256
//! of it (one hash-sized expansion). `scripts/bench-core.sh` fails if such a
//! crate ever enters `cargo tree -p kakao-desk-core`.

mod birthday;
mod cache;
mod login;
mod oidc;
mod vault;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use kakao_desk_core::config::{Config, Resolution};

/// A fixed "now", so deadlines and expiries are exact.
pub const T0: u64 = 1_763_900_000;
/// The app identifier bound into vault envelopes.
pub const APP_ID: &str = "dev.kakaodesk.desktop";
/// The app's deep-link scheme.
pub const SCHEME: &str = "dev.kakaodesk.desktop";

/// [`T0`] as a time.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0)
}

/// A configuration as a published build resolves it: a client id, and the
/// production hosts and bridge page from the compiled defaults.
pub fn production_config() -> Config {
    let runtime = |name: &str| match name {
        "KAKAO_CLIENT_ID" => Some("0123456789abcdef0123456789abcdef".to_owned()),
        "KAKAO_SCOPES" => Some("openid,profile_nickname,profile_image".to_owned()),
        _ => None,
    };
    match Config::resolve_layers(runtime, |_| None) {
        Ok(Resolution::Kakao(config)) => *config,
        other => panic!("the benchmark configuration must resolve: {other:?}"),
    }
}

/// Short runs by default, so the whole suite stays within a few minutes on
/// two cores; criterion's command-line options (`--warm-up-time`,
/// `--measurement-time`, `--sample-size`) still override these.
/// The value of query parameter `name` in `url`.
pub fn query_value(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| panic!("{name} in the URL"))
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = login::begin_authorize_url,
        login::callback_intake,
        vault::seal_open_memory,
        vault::write_read_file,
        cache::upsert_read_file,
        birthday::from_kakao,
        oidc::verify_cached_jwks
}
criterion_main!(benches);

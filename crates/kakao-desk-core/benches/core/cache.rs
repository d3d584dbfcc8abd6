//! The profile cache on a real SQLite file.

use std::hint::black_box;

use criterion::Criterion;
use kakao_desk_core::cache::{ProfileCache, Thumbnail};
use kakao_desk_core::kakao::user_me::UserMeResponse;
use kakao_desk_core::profile::KakaoProfile;
use kakao_emulator::{BASE_URL_PLACEHOLDER, Users, fixture_ids};

use crate::t0;

/// The emulator's fullest fixture user (nickname, images, email, a solar
/// birthday with its year), normalised as after `/v2/user/me`.
fn fixture_profile() -> KakaoProfile {
    let raw = Users::default_fixtures()
        .get(fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR)
        .map(ToString::to_string)
        .unwrap_or_else(|| panic!("the emulator ships this fixture user"))
        .replace(BASE_URL_PLACEHOLDER, "https://k.kakaocdn.net/dn");
    let me: UserMeResponse = serde_json::from_str(&raw)
        .unwrap_or_else(|e| panic!("the fixture has Kakao's /v2/user/me shape: {e}"));
    let (profile, warnings) = KakaoProfile::from_user_me(&me);
    assert!(
        warnings.is_empty() && profile.birthday.is_some() && profile.email.is_some(),
        "the benchmark must store a complete profile: {warnings:?}"
    );
    profile
}

/// A thumbnail of the size a 110×110 JPEG from Kakao's CDN has (8 KiB of
/// incompressible bytes behind the JPEG magic; only the magic is checked).
fn thumbnail() -> Thumbnail {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut x: u32 = 0x9E37_79B9;
    while bytes.len() < 8 * 1024 {
        // xorshift32: deterministic filler that SQLite cannot compress away.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    Thumbnail::new("image/jpeg", bytes).unwrap_or_else(|e| panic!("thumbnail: {e}"))
}

/// `ProfileCache::upsert_login` (the sign-in update of an existing row,
/// thumbnail included, which also reads the stored row back) and then
/// `ProfileCache::get`, the read a start-up does, on a SQLite file in WAL
/// mode with `synchronous = NORMAL`, as the app opens it.
///
/// The file is under Cargo's target directory rather than `/tmp`, which is a
/// RAM-backed tmpfs on many distributions.
pub fn upsert_read_file(c: &mut Criterion) {
    let dir = tempfile::Builder::new()
        .prefix("bench-profile-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    let cache = ProfileCache::open(&dir.path().join("profile.db"))
        .unwrap_or_else(|e| panic!("the profile cache must open: {e}"));
    let profile = fixture_profile();
    let thumbnail = thumbnail();
    let stored = cache
        .upsert_login(&profile, Some(&thumbnail), t0())
        .unwrap_or_else(|e| panic!("upsert: {e}"));
    let read = cache.get(profile.id).unwrap_or_else(|e| panic!("get: {e}"));
    assert_eq!(
        read.as_ref().map(|r| &r.profile),
        Some(&stored.profile),
        "the cache must return the profile it stored"
    );
    assert_eq!(
        read.and_then(|r| r.thumbnail).map(|t| t.bytes().len()),
        Some(thumbnail.bytes().len()),
        "the thumbnail must be stored with the profile"
    );

    let mut group = c.benchmark_group("profile_cache");
    group.bench_function("upsert_read_file", |b| {
        b.iter(|| {
            cache
                .upsert_login(black_box(&profile), Some(black_box(&thumbnail)), t0())
                .unwrap_or_else(|e| panic!("upsert: {e}"));
            cache
                .get(black_box(profile.id))
                .unwrap_or_else(|e| panic!("get: {e}"))
        });
    });
    group.finish();
}

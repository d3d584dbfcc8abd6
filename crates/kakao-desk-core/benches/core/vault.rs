//! The session vault: seal + open in memory, and write + read on real files.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use kakao_desk_core::profile::KakaoId;
use kakao_desk_core::random;
use kakao_desk_core::secret::{AccessToken, IdToken, RefreshToken, VaultKey};
use kakao_desk_core::session::{self, SessionKey, SessionRecord};
use kakao_desk_core::vault::{FileVaultStorage, MemoryVaultStorage, Vault, VaultStorage};

use crate::{APP_ID, t0};

/// A session record as a login leaves it: a minted session JWT, Kakao-sized
/// access and refresh tokens (54 characters) and an id_token of the size an
/// RS256 token with nickname and picture has (about 800 characters). About
/// 1.4 KiB sealed.
fn session_bytes(vault: &Vault) -> Vec<u8> {
    let token = |n| random::token(n).unwrap_or_else(|e| panic!("OS RNG: {e}"));
    let kakao_id = KakaoId::new(1_376_016_924_426_111_111);
    let key = SessionKey::derive(vault.key(), APP_ID);
    let (session_jwt, _) = session::mint(
        &key,
        APP_ID,
        kakao_id,
        session::DEFAULT_SESSION_LIFETIME,
        t0(),
    )
    .unwrap_or_else(|e| panic!("mint: {e}"));
    let record = SessionRecord {
        session_jwt,
        kakao_id,
        access_token: AccessToken::new(token(40)),
        access_expires_at: t0() + Duration::from_secs(21_599),
        refresh_token: RefreshToken::new(token(40)),
        refresh_expires_at: t0() + Duration::from_secs(60 * 24 * 3600 - 1),
        id_token: Some(IdToken::new(format!(
            "{}.{}.{}",
            token(50),
            token(300),
            token(256)
        ))),
        scopes: ["openid", "profile_nickname", "profile_image"]
            .map(str::to_owned)
            .to_vec(),
    };
    record.to_bytes().to_vec()
}

/// A vault on `storage` with both slots already written, as after any second
/// login: each save then reads and opens both slots to find the newest
/// generation, and each load opens both.
fn warmed_vault(storage: Box<dyn VaultStorage>) -> (Vault, Vec<u8>) {
    let vault = Vault::new(APP_ID, VaultKey::from_bytes([0x5a; 32]), storage);
    let bytes = session_bytes(&vault);
    for _ in 0..2 {
        vault
            .save(&bytes)
            .unwrap_or_else(|e| panic!("the vault must save: {e}"));
    }
    let loaded = vault
        .load()
        .unwrap_or_else(|e| panic!("the vault must open: {e}"));
    assert_eq!(
        loaded.as_deref().map(Vec::as_slice),
        Some(bytes.as_slice()),
        "the vault must return exactly the session it sealed"
    );
    (vault, bytes)
}

/// `Vault::save` + `Vault::load` with memory slots: XChaCha20-Poly1305 seal
/// of a session record, then open, with the two-slot generation scan.
pub fn seal_open_memory(c: &mut Criterion) {
    let (vault, bytes) = warmed_vault(Box::new(MemoryVaultStorage::new()));
    let mut group = c.benchmark_group("vault");
    group.bench_function("seal_open_memory", |b| {
        b.iter(|| {
            vault
                .save(black_box(&bytes))
                .unwrap_or_else(|e| panic!("save: {e}"));
            vault.load().unwrap_or_else(|e| panic!("load: {e}"))
        });
    });
    group.finish();
}

/// `Vault::save` + `Vault::load` with `FileVaultStorage` on a real disk: the
/// new envelope goes to a temporary file that is `fsync`ed and renamed over
/// the slot, then the directory is `fsync`ed; the load reads both slot files.
///
/// The directory is under Cargo's target directory rather than `/tmp`, which
/// is a RAM-backed tmpfs on many distributions and would make `fsync` free.
pub fn write_read_file(c: &mut Criterion) {
    let dir = tempfile::Builder::new()
        .prefix("bench-vault-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    let (vault, bytes) = warmed_vault(Box::new(FileVaultStorage::new(dir.path())));
    let mut group = c.benchmark_group("vault");
    // Milliseconds per iteration: equal-sized samples keep the run short.
    group.sampling_mode(SamplingMode::Flat).sample_size(30);
    group.bench_function("write_read_file", |b| {
        b.iter(|| {
            vault
                .save(black_box(&bytes))
                .unwrap_or_else(|e| panic!("save: {e}"));
            vault.load().unwrap_or_else(|e| panic!("load: {e}"))
        });
    });
    group.finish();
}

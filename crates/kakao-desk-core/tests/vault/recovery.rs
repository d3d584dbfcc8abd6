//! The vault and the profile cache side by side in one data directory, as the
//! app keeps them: damage to the vault is survived or ends in a clean sign-out,
//! and never touches the profile cache; no secret reaches any file in clear.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use kakao_desk_core::ErrorCode;
use kakao_desk_core::cache::ProfileCache;
use kakao_desk_core::kakao::user_me::UserMeResponse;
use kakao_desk_core::profile::{KakaoId, KakaoProfile};
use kakao_desk_core::secret::{VAULT_KEY_LEN, VaultKey};
use kakao_desk_core::vault::{FileVaultStorage, Slot, Vault, VaultError};

const APP: &str = "dev.kakaodesk.test.recovery";
const SECRET_MARKER: &str = "tok-SECRET-7f3a9c";

struct DataDir {
    _temp: tempfile::TempDir,
    root: PathBuf,
}

impl DataDir {
    fn vault_dir(&self) -> PathBuf {
        self.root.join("session")
    }

    fn vault(&self) -> Vault {
        Vault::new(
            APP,
            VaultKey::from_bytes([3; VAULT_KEY_LEN]),
            Box::new(FileVaultStorage::new(self.vault_dir())),
        )
    }

    fn cache_path(&self) -> PathBuf {
        self.root.join("profile.db")
    }
}

/// A data directory with a cached profile (connection closed, so the file is
/// settled) and two saved sessions.
fn data_dir_with_session() -> DataDir {
    let temp = tempfile::tempdir().expect("temp dir");
    let root = temp.path().join("data");
    fs::create_dir_all(&root).expect("data dir");
    let dir = DataDir { _temp: temp, root };
    {
        let me: UserMeResponse = serde_json::from_str(
            r#"{"id":1376016924429759243,"kakao_account":{"profile_nickname_needs_agreement":false,"profile":{"nickname":"홍길동"}}}"#,
        )
        .expect("fixture");
        let (profile, _) = KakaoProfile::from_user_me(&me);
        let cache = ProfileCache::open(&dir.cache_path()).expect("cache opens");
        cache
            .upsert_login(
                &profile,
                None,
                UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            )
            .expect("profile cached");
    }
    let vault = dir.vault();
    vault
        .save(format!("first {SECRET_MARKER}-1").as_bytes())
        .expect("save 1");
    vault
        .save(format!("second {SECRET_MARKER}-2").as_bytes())
        .expect("save 2");
    dir
}

fn flip_a_byte(path: &Path) {
    let mut bytes = fs::read(path).expect("slot file");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    fs::write(path, bytes).expect("write slot");
}

#[test]
fn a_flipped_byte_in_the_newest_slot_lets_the_other_win() {
    let dir = data_dir_with_session();
    let storage = FileVaultStorage::new(dir.vault_dir());
    // Two saves: generation 1 in slot A, generation 2 (newest) in slot B.
    flip_a_byte(&storage.path(Slot::B));
    let loaded = dir
        .vault()
        .load()
        .expect("one good slot is enough to open")
        .expect("a session");
    assert_eq!(
        &loaded[..],
        format!("first {SECRET_MARKER}-1").as_bytes(),
        "the damaged newest slot is ignored and the previous save wins"
    );
    assert!(
        storage.path(Slot::B).exists(),
        "a damaged slot beside a good one is left for the next save to overwrite"
    );
}

#[test]
fn a_flipped_byte_in_the_older_slot_changes_nothing() {
    let dir = data_dir_with_session();
    flip_a_byte(&FileVaultStorage::new(dir.vault_dir()).path(Slot::A));
    let loaded = dir.vault().load().expect("opens").expect("a session");
    assert_eq!(
        &loaded[..],
        format!("second {SECRET_MARKER}-2").as_bytes(),
        "the newest slot is intact, so it still wins"
    );
}

#[test]
fn all_slots_bad_moves_them_aside_signs_out_and_keeps_the_profile_cache() {
    let dir = data_dir_with_session();
    let cache_before = fs::read(dir.cache_path()).expect("cache file");
    let storage = FileVaultStorage::new(dir.vault_dir());
    flip_a_byte(&storage.path(Slot::A));
    flip_a_byte(&storage.path(Slot::B));

    let error = dir.vault().load().expect_err("no slot opens");
    assert!(
        matches!(error, VaultError::Unreadable { slots: 2, .. }),
        "a typed error, not a panic: {error:?}"
    );
    assert_eq!(
        error.code(),
        ErrorCode::SessionExpired,
        "the UI shows a clean sign-out: log in again"
    );
    assert!(
        !storage.path(Slot::A).exists() && !storage.path(Slot::B).exists(),
        "the unreadable slots are moved out of the way"
    );
    let aside = super::files_under(&dir.vault_dir())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".unreadable-"))
        .count();
    assert_eq!(aside, 2, "both are kept aside for diagnosis");
    assert!(
        dir.vault()
            .load()
            .expect("the next start opens cleanly")
            .is_none(),
        "the next start sees no session instead of failing again"
    );

    assert_eq!(
        fs::read(dir.cache_path()).expect("cache file"),
        cache_before,
        "the profile cache file is not touched by the vault's failure"
    );
    let cache = ProfileCache::open(&dir.cache_path()).expect("cache still opens");
    let offer = cache
        .most_recent()
        .expect("query")
        .expect("the cached profile");
    assert_eq!(
        offer.profile.id,
        KakaoId::new(1_376_016_924_429_759_243),
        "'continue as <nickname>' still works after a vault failure"
    );
}

#[test]
fn no_secret_reaches_any_file_in_clear() {
    let dir = data_dir_with_session();
    for path in super::files_under(&dir.root) {
        let bytes = fs::read(&path).expect("readable");
        assert!(
            !bytes
                .windows(SECRET_MARKER.len())
                .any(|w| w == SECRET_MARKER.as_bytes()),
            "{} holds a session secret in clear",
            path.display()
        );
    }
}

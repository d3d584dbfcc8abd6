//! Where the vault key comes from.
//!
//! The key is 256 random bits, created once, and never silently replaced: a
//! new key would make every existing vault unreadable. So a key source
//! creates a key only when it *knows* there is none (the keychain answered "no
//! such entry", the key file does not exist) and, after creating one, reads
//! back what actually landed and adopts it, in case another process won a
//! race. Any other failure is an error, never a reason to make a new key.
//!
//! When no keychain is available there is **no plaintext fallback**: the
//! error maps to `keychain_unavailable`, the app keeps the session in memory
//! only, and the user may opt in to a [`KeyFileSource`] explicitly.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use thiserror::Error;
use zeroize::Zeroizing;

use crate::ErrorCode;
use crate::secret::{VAULT_KEY_LEN, VaultKey};

/// The keychain account name of the vault key (the service is the app id).
pub const KEYCHAIN_ACCOUNT: &str = "session-vault-key";

/// Whether a key was found or made by this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The key already existed (or another process created it first).
    Existing,
    /// This call created and stored the key.
    Created,
}

/// Why no key could be had.
#[derive(Debug, Error)]
pub enum KeyError {
    /// No usable OS keychain: no Secret Service on the session bus, a locked
    /// collection that cannot be unlocked, no platform support, …
    #[error("the OS keychain is unavailable: {0}")]
    KeychainUnavailable(String),
    /// The keychain holds an entry under our name that is not a 256-bit key.
    /// It is left alone (it might belong to a newer version).
    #[error("the keychain entry for the vault key is not a 256-bit key")]
    KeychainKeyMalformed,
    /// The key file's permissions let other users read or write it.
    #[error("the key file is accessible to other users (mode {mode:o}); refusing to use it")]
    KeyFileInsecure {
        /// The file's permission bits.
        mode: u32,
    },
    /// The key file is not a regular file holding exactly 32 bytes.
    #[error("the key file is not a 256-bit key")]
    KeyFileMalformed,
    /// Reading or creating the key file failed.
    #[error("the key file could not be read or created")]
    KeyFileIo(#[source] io::Error),
    /// The OS random generator failed.
    #[error("the OS random generator failed")]
    Random,
}

impl KeyError {
    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::KeychainUnavailable(_) | Self::KeychainKeyMalformed => {
                ErrorCode::KeychainUnavailable
            }
            Self::KeyFileInsecure { .. } | Self::KeyFileMalformed | Self::KeyFileIo(_) => {
                ErrorCode::Storage
            }
            Self::Random => ErrorCode::Internal,
        }
    }
}

/// A source of the vault key.
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The key, created on first use.
    ///
    /// # Errors
    /// A [`KeyError`]; the caller must not fall back to storing anything in
    /// plaintext.
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError>;
}

/// 256 fresh random bits from the OS.
///
/// # Errors
/// [`KeyError::Random`] if the OS generator fails.
pub fn random_vault_key() -> Result<VaultKey, KeyError> {
    let mut bytes = Zeroizing::new([0u8; VAULT_KEY_LEN]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| KeyError::Random)?;
    Ok(VaultKey::from_bytes(*bytes))
}

fn key_from_slice(bytes: &[u8]) -> Option<VaultKey> {
    let array: Zeroizing<[u8; VAULT_KEY_LEN]> = Zeroizing::new(bytes.try_into().ok()?);
    Some(VaultKey::from_bytes(*array))
}

/// The vault key in the OS keychain: Secret Service (GNOME Keyring, KWallet)
/// on Linux, Credential Manager on Windows, the Keychain on macOS. Service =
/// the app id, account = [`KEYCHAIN_ACCOUNT`].
#[derive(Debug, Clone)]
pub struct KeychainKeySource {
    service: String,
    account: String,
}

impl KeychainKeySource {
    /// The entry of the app `app_id` (reverse-DNS identifier).
    pub fn for_app(app_id: &str) -> Self {
        Self {
            service: app_id.to_owned(),
            account: KEYCHAIN_ACCOUNT.to_owned(),
        }
    }

    /// The keychain service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The keychain account name.
    pub fn account(&self) -> &str {
        &self.account
    }
}

#[cfg(any(target_os = "linux", target_os = "windows", target_os = "macos"))]
impl KeySource for KeychainKeySource {
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        #[cfg(target_os = "linux")]
        if !linux_session_bus_known() {
            // Without a bus address libdbus would "autolaunch" a bus through
            // X11, which starts a locked keyring daemon that then lingers
            // (tauri-linux.md §7). Say "unavailable" without touching D-Bus.
            tracing::warn!("no D-Bus session bus: the OS keychain is unavailable");
            return Err(KeyError::KeychainUnavailable(
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus)"
                    .to_owned(),
            ));
        }
        let entry =
            keyring::Entry::new(&self.service, &self.account).map_err(keychain_unavailable)?;
        load_or_create_in(&OsEntry(entry))
    }
}

/// The two keychain operations the key rules need, so that the rules can be
/// tested against a fake keychain on every platform.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "windows", target_os = "macos")),
    allow(dead_code)
)]
trait KeychainEntry {
    /// The stored secret, `None` when there is no entry. Any other failure is
    /// an error: "cannot tell" must never be taken for "no key".
    fn get(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError>;
    /// Stores (creates or replaces) the secret.
    fn set(&self, secret: &[u8]) -> Result<(), KeyError>;
}

/// The rules: use an existing key; create one only when the keychain
/// answered "no entry"; after storing, adopt whatever landed.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "windows", target_os = "macos")),
    allow(dead_code)
)]
fn load_or_create_in(entry: &dyn KeychainEntry) -> Result<(VaultKey, KeyOrigin), KeyError> {
    if let Some(stored) = entry.get()? {
        // A wrong-sized entry is reported, not replaced: it may belong to a
        // newer version, and replacing it would orphan that version's vault.
        let key = key_from_slice(&stored).ok_or(KeyError::KeychainKeyMalformed)?;
        return Ok((key, KeyOrigin::Existing));
    }
    let fresh = random_vault_key()?;
    entry.set(fresh.secret())?;
    // Adopt what landed: if another process stored its key around the same
    // time, use the one the keychain now holds, which is what every later
    // start will read.
    let landed = entry.get()?.ok_or_else(|| {
        KeyError::KeychainUnavailable("the key was gone right after it was stored".to_owned())
    })?;
    let key = key_from_slice(&landed).ok_or(KeyError::KeychainKeyMalformed)?;
    if key.secret() == fresh.secret() {
        tracing::info!("created the vault key in the OS keychain");
        Ok((key, KeyOrigin::Created))
    } else {
        tracing::info!("adopted a vault key another process created");
        Ok((key, KeyOrigin::Existing))
    }
}

#[cfg(any(target_os = "linux", target_os = "windows", target_os = "macos"))]
struct OsEntry(keyring::Entry);

#[cfg(any(target_os = "linux", target_os = "windows", target_os = "macos"))]
impl KeychainEntry for OsEntry {
    fn get(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError> {
        match self.0.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            // Locked, no service, ambiguous…
            Err(error) => Err(keychain_unavailable(error)),
        }
    }

    fn set(&self, secret: &[u8]) -> Result<(), KeyError> {
        self.0.set_secret(secret).map_err(keychain_unavailable)
    }
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
impl KeySource for KeychainKeySource {
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        Err(KeyError::KeychainUnavailable(
            "no supported keychain on this platform".to_owned(),
        ))
    }
}

/// Whether libdbus can find a session bus without autolaunching one: an
/// explicit address, or the systemd user bus socket it falls back to.
#[cfg(target_os = "linux")]
fn linux_session_bus_known() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| Path::new(&dir).join("bus").exists())
}

/// Describes a keyring error without anything that could hold a secret
/// (`BadEncoding` carries the raw bytes, so its text is never used).
#[cfg(any(target_os = "linux", target_os = "windows", target_os = "macos"))]
fn keychain_unavailable(error: keyring::Error) -> KeyError {
    let reason = match &error {
        keyring::Error::PlatformFailure(inner) => format!("platform failure: {inner}"),
        keyring::Error::NoStorageAccess(inner) => format!("no storage access: {inner}"),
        keyring::Error::NoEntry => "no entry".to_owned(),
        keyring::Error::BadEncoding(_) => "bad encoding".to_owned(),
        keyring::Error::TooLong(field, limit) => format!("{field} longer than {limit}"),
        keyring::Error::Invalid(field, why) => format!("invalid {field}: {why}"),
        keyring::Error::Ambiguous(found) => format!("{} matching entries", found.len()),
        _ => "unknown keychain error".to_owned(),
    };
    tracing::warn!(%reason, "the OS keychain is unavailable");
    KeyError::KeychainUnavailable(reason)
}

/// The vault key in a file readable only by the user: an explicit opt-in for
/// machines without a keychain, after the user was warned that anyone who can
/// read their files can then open the session.
///
/// The file holds the 32 raw key bytes. It is created with mode 0600 under a
/// temporary name and hard-linked into place, so it appears complete or not
/// at all, and an existing key file is never replaced (a lost race adopts the
/// winner's key). An existing file with group or other permission bits, or
/// that is a symlink, is refused.
///
/// # Security
/// On Windows the file relies on the user profile's ACLs; no mode check is
/// made there.
#[derive(Debug, Clone)]
pub struct KeyFileSource {
    path: PathBuf,
}

impl KeyFileSource {
    /// The key file at `path` (its directory is created, mode 0700, if needed).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the key file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_existing(&self) -> Result<Option<VaultKey>, KeyError> {
        let metadata = match fs::symlink_metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(KeyError::KeyFileIo(e)),
        };
        if !metadata.file_type().is_file() {
            return Err(KeyError::KeyFileMalformed);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::KeyFileInsecure { mode });
            }
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(VAULT_KEY_LEN + 1));
        File::open(&self.path)
            .and_then(|file| {
                // One byte more than a key tells "too long" from "exact".
                file.take(VAULT_KEY_LEN as u64 + 1).read_to_end(&mut bytes)
            })
            .map_err(KeyError::KeyFileIo)?;
        key_from_slice(&bytes)
            .map(Some)
            .ok_or(KeyError::KeyFileMalformed)
    }

    fn create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(KeyError::KeyFileIo)?;

        let key = random_vault_key()?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|_| KeyError::Random)?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let file_name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{file_name}.{suffix}.tmp"));

        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options.open(&temp).and_then(|mut file| {
            file.write_all(key.secret())?;
            file.sync_all()
        });
        // link(2) fails if the target exists: the no-overwrite create.
        let linked = written.and_then(|()| fs::hard_link(&temp, &self.path));
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                #[cfg(unix)]
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(KeyError::KeyFileIo)?;
                tracing::info!("created the vault key file");
                Ok((key, KeyOrigin::Created))
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let adopted = self.read_existing()?.ok_or(KeyError::KeyFileMalformed)?;
                Ok((adopted, KeyOrigin::Existing))
            }
            Err(e) => Err(KeyError::KeyFileIo(e)),
        }
    }
}

impl KeySource for KeyFileSource {
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        match self.read_existing()? {
            Some(key) => Ok((key, KeyOrigin::Existing)),
            None => self.create(),
        }
    }
}

/// A key that lives only in this process: tests, and sessions deliberately
/// kept in memory.
#[derive(Debug, Default)]
pub struct MemoryKeySource {
    key: Mutex<Option<Zeroizing<[u8; VAULT_KEY_LEN]>>>,
}

impl MemoryKeySource {
    /// No key yet; the first call creates a random one.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fixed key (tests).
    pub fn with_key(bytes: [u8; VAULT_KEY_LEN]) -> Self {
        Self {
            key: Mutex::new(Some(Zeroizing::new(bytes))),
        }
    }
}

impl KeySource for MemoryKeySource {
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        let mut slot = self.key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = slot.as_ref() {
            return Ok((VaultKey::from_bytes(**bytes), KeyOrigin::Existing));
        }
        let key = random_vault_key()?;
        *slot = Some(Zeroizing::new(*key.secret()));
        Ok((key, KeyOrigin::Created))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_source_creates_once() {
        let source = MemoryKeySource::new();
        let (first, origin) = source.load_or_create().unwrap();
        assert_eq!(origin, KeyOrigin::Created);
        let (second, origin) = source.load_or_create().unwrap();
        assert_eq!(
            origin,
            KeyOrigin::Existing,
            "the second call finds the first key"
        );
        assert_eq!(first.secret(), second.secret(), "never replaced");
    }

    #[test]
    fn random_keys_differ() {
        let a = random_vault_key().unwrap();
        let b = random_vault_key().unwrap();
        assert_ne!(
            a.secret(),
            b.secret(),
            "256 random bits never repeat in practice"
        );
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeyFileSource::new(dir.path().join("keys/vault.key"));
        let (created, origin) = source.load_or_create().unwrap();
        assert_eq!(origin, KeyOrigin::Created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(source.path()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "only the user may read the key");
            let dir_mode = fs::metadata(dir.path().join("keys"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dir_mode, 0o700, "the created directory is private too");
        }
        let (again, origin) = KeyFileSource::new(source.path()).load_or_create().unwrap();
        assert_eq!(origin, KeyOrigin::Existing);
        assert_eq!(
            again.secret(),
            created.secret(),
            "an existing key file is used, never replaced"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("keys")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn key_file_race_adopts_the_winner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        let winner = KeyFileSource::new(&path);
        let (won, _) = winner.load_or_create().unwrap();
        // The loser had seen no file and goes straight to creating.
        let (adopted, origin) = KeyFileSource::new(&path).create().unwrap();
        assert_eq!(
            origin,
            KeyOrigin::Existing,
            "the loser reports it did not create"
        );
        assert_eq!(
            adopted.secret(),
            won.secret(),
            "the loser adopts the key that landed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_file_with_wide_permissions_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.key");
        fs::write(&path, [7u8; VAULT_KEY_LEN]).unwrap();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let error = KeyFileSource::new(&path)
                .load_or_create()
                .expect_err("too open");
            assert!(
                matches!(error, KeyError::KeyFileInsecure { .. }),
                "mode {mode:o}: {error:?}"
            );
            assert_eq!(error.code(), ErrorCode::Storage);
        }
        assert_eq!(
            fs::read(&path).unwrap(),
            [7u8; VAULT_KEY_LEN],
            "a refused key file is left untouched, not replaced"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let (key, _) = KeyFileSource::new(&path).load_or_create().unwrap();
        assert_eq!(key.secret(), &[7u8; VAULT_KEY_LEN], "0600 is accepted");
    }

    #[cfg(unix)]
    #[test]
    fn malformed_key_files_are_refused_not_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (len, why) in [(0, "empty"), (31, "short"), (33, "long")] {
            let path = dir.path().join(format!("k{len}"));
            fs::write(&path, vec![1u8; len]).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let error = KeyFileSource::new(&path).load_or_create().expect_err(why);
            assert!(
                matches!(error, KeyError::KeyFileMalformed),
                "{why}: {error:?}"
            );
            assert_eq!(
                fs::read(&path).unwrap().len(),
                len,
                "{why}: the file is left as it was"
            );
        }
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("k31"), &link).unwrap();
        assert!(
            matches!(
                KeyFileSource::new(&link).load_or_create(),
                Err(KeyError::KeyFileMalformed)
            ),
            "a symlink is not followed"
        );
    }

    /// A keychain in memory that can be locked, and can let "another
    /// process" store its key right after ours.
    #[derive(Default)]
    struct FakeKeychain {
        stored: std::cell::RefCell<Option<Vec<u8>>>,
        locked: bool,
        racer: Option<[u8; VAULT_KEY_LEN]>,
        sets: std::cell::Cell<usize>,
    }

    impl KeychainEntry for FakeKeychain {
        fn get(&self) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError> {
            if self.locked {
                return Err(KeyError::KeychainUnavailable("locked".into()));
            }
            Ok(self.stored.borrow().clone().map(Zeroizing::new))
        }

        fn set(&self, secret: &[u8]) -> Result<(), KeyError> {
            if self.locked {
                return Err(KeyError::KeychainUnavailable("locked".into()));
            }
            self.sets.set(self.sets.get() + 1);
            *self.stored.borrow_mut() = Some(secret.to_vec());
            if let Some(theirs) = self.racer {
                *self.stored.borrow_mut() = Some(theirs.to_vec());
            }
            Ok(())
        }
    }

    #[test]
    fn keychain_rules_create_only_on_no_entry() {
        let empty = FakeKeychain::default();
        let (key, origin) = load_or_create_in(&empty).unwrap();
        assert_eq!(origin, KeyOrigin::Created, "no entry: create");
        assert_eq!(
            empty.stored.borrow().as_deref(),
            Some(&key.secret()[..]),
            "the returned key is the stored key"
        );
        let (again, origin) = load_or_create_in(&empty).unwrap();
        assert_eq!(origin, KeyOrigin::Existing);
        assert_eq!(again.secret(), key.secret(), "found, not replaced");
        assert_eq!(empty.sets.get(), 1, "stored exactly once");
    }

    #[test]
    fn keychain_rules_never_replace_what_they_cannot_read() {
        let locked = FakeKeychain {
            stored: std::cell::RefCell::new(Some(vec![5; VAULT_KEY_LEN])),
            locked: true,
            ..FakeKeychain::default()
        };
        let error = load_or_create_in(&locked).expect_err("locked");
        assert_eq!(error.code(), ErrorCode::KeychainUnavailable);
        assert_eq!(
            locked.sets.get(),
            0,
            "a locked keychain is not 'no key': nothing is stored"
        );

        let malformed = FakeKeychain {
            stored: std::cell::RefCell::new(Some(b"short".to_vec())),
            ..FakeKeychain::default()
        };
        let error = load_or_create_in(&malformed).expect_err("not a key");
        assert!(matches!(error, KeyError::KeychainKeyMalformed), "{error:?}");
        assert_eq!(error.code(), ErrorCode::KeychainUnavailable);
        assert_eq!(malformed.sets.get(), 0, "a malformed entry is left alone");
    }

    #[test]
    fn keychain_rules_adopt_a_racing_key() {
        let racing = FakeKeychain {
            racer: Some([9; VAULT_KEY_LEN]),
            ..FakeKeychain::default()
        };
        let (key, origin) = load_or_create_in(&racing).unwrap();
        assert_eq!(
            key.secret(),
            &[9; VAULT_KEY_LEN],
            "the key that landed is the one used"
        );
        assert_eq!(
            origin,
            KeyOrigin::Existing,
            "this call did not create the key in use"
        );
    }

    #[test]
    fn keychain_names_come_from_the_app_id() {
        let source = KeychainKeySource::for_app("dev.kakaodesk.app");
        assert_eq!(source.service(), "dev.kakaodesk.app");
        assert_eq!(source.account(), KEYCHAIN_ACCOUNT);
    }
}

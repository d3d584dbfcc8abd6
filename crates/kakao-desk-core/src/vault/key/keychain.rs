//! The vault key in the OS keychain.

#[cfg(target_os = "linux")]
use std::path::Path;

use zeroize::Zeroizing;

use super::source::{KeyError, KeyOrigin, KeySource, key_from_slice, random_vault_key};
use crate::secret::VaultKey;

/// The keychain account name of the vault key (the service is the app id).
pub const KEYCHAIN_ACCOUNT: &str = "session-vault-key";

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
            // X11, which starts a locked keyring daemon that then lingers.
            // Say "unavailable" without touching D-Bus.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::secret::VAULT_KEY_LEN;

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

//! The session vault: opaque session bytes, sealed with an AEAD, kept in two
//! slots so that a crash mid-write never loses the session.
//!
//! # How it fits together
//!
//! - A [`KeySource`] gives the 256-bit [`VaultKey`]: the OS keychain
//!   ([`KeychainKeySource`]), an explicit opt-in key file ([`KeyFileSource`]),
//!   or memory ([`MemoryKeySource`], tests).
//! - A [`VaultStorage`] keeps two independent slots of opaque bytes: files
//!   ([`FileVaultStorage`]), memory ([`MemoryVaultStorage`]), or in the Tauri
//!   shell one `tauri-plugin-store` file per slot.
//! - [`Vault`] seals and opens. Each save writes generation *g + 1* into the
//!   slot that does **not** hold the newest generation *g*; each load opens
//!   both slots and returns the newest that authenticates. A crash (or a torn
//!   `fs::write`) during a save damages only the slot being written, so the
//!   session of the previous save survives: a crash loses at most the write in
//!   flight.
//! - If every stored slot fails to open (wrong key, tampering, a newer format),
//!   the slots are moved aside for diagnosis and [`VaultError::Unreadable`]
//!   asks for a clean sign-out; the profile cache is a separate file and is not
//!   touched.
//!
//! # Security
//! What the vault protects against: other users and programs reading the
//! session from disk without the keychain's consent, edits to the stored bytes,
//! and the slots being swapped or relabelled. What it does not: a program
//! running as the same user that can ask the keychain for the key, and a
//! rollback to an older copy of both slot files (there is no trusted counter
//! outside the files to detect it; the session JWT's expiry bounds the damage).

mod envelope;
mod key;
mod slot;
mod storage;

use std::sync::Mutex;

use thiserror::Error;
use zeroize::Zeroizing;

pub use envelope::{ALG_XCHACHA20_POLY1305, EnvelopeError, FORMAT_VERSION, MAGIC};
pub use key::{
    KEYCHAIN_ACCOUNT, KeyError, KeyFileSource, KeyOrigin, KeySource, KeychainKeySource,
    MemoryKeySource, random_vault_key,
};
pub use slot::{HEADER_LEN, MAX_ENVELOPE_LEN, MAX_PLAINTEXT_LEN, Slot};
pub use storage::{FileVaultStorage, MemoryVaultStorage, VaultStorage, is_set_aside};

use crate::ErrorCode;
use crate::secret::VaultKey;
use envelope::{Opened, RecordKind, Sealer};

/// Why a vault operation failed.
#[derive(Debug, Error)]
pub enum VaultError {
    /// The storage failed to read, write or remove a slot.
    #[error("the session vault storage failed")]
    Storage(#[source] std::io::Error),
    /// No stored slot could be opened. They have been moved aside; the user
    /// must sign in again.
    #[error("the session vault could not be opened ({slots} slot(s) moved aside)")]
    Unreadable {
        /// How many slots were moved aside.
        slots: usize,
        /// Why the newest one failed.
        #[source]
        cause: EnvelopeError,
    },
    /// The plaintext is larger than [`MAX_PLAINTEXT_LEN`].
    #[error("the session record is too large to seal")]
    TooLarge,
    /// Sealing or drawing randomness failed.
    #[error("sealing the session failed")]
    Seal,
}

impl VaultError {
    /// The stable error code. An unreadable vault is a clean sign-out
    /// (`session_expired`: "log in again"), not a storage fault the user could
    /// fix.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Storage(_) => ErrorCode::Storage,
            Self::Unreadable { .. } => ErrorCode::SessionExpired,
            Self::TooLarge | Self::Seal => ErrorCode::Internal,
        }
    }
}

/// The session vault. Cheap to share behind an `Arc`; operations are
/// serialized by an internal lock.
pub struct Vault {
    key: VaultKey,
    sealer: Sealer,
    storage: Box<dyn VaultStorage>,
    lock: Mutex<()>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

/// What a scan of both slots found.
struct Scan {
    newest: Option<Opened>,
    /// Slots that hold bytes that did not open, with the reason.
    failed: Vec<(Slot, EnvelopeError)>,
}

impl Vault {
    /// A vault for the app `app_id` (the reverse-DNS identifier; it is bound
    /// into every envelope), sealing with `key`, keeping slots in `storage`.
    pub fn new(app_id: &str, key: VaultKey, storage: Box<dyn VaultStorage>) -> Self {
        let sealer = Sealer::new(&key, app_id);
        Self {
            key,
            sealer,
            storage,
            lock: Mutex::new(()),
        }
    }

    /// The vault key, for deriving other keys from it (the session JWT key).
    ///
    /// # Security
    /// Use only as HKDF input with a distinct `info`; never log or store it.
    pub fn key(&self) -> &VaultKey {
        &self.key
    }

    /// Seals `plaintext` as the new session, replacing the previous one. When
    /// this returns `Ok`, the new session is on storage; if the process dies
    /// before, the previous session is still there.
    ///
    /// # Errors
    /// [`VaultError::Storage`] if a slot cannot be read (its generation would
    /// be unknown, so writing could make an older session win later) or
    /// written; [`VaultError::TooLarge`]; [`VaultError::Seal`].
    pub fn save(&self, plaintext: &[u8]) -> Result<(), VaultError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(VaultError::TooLarge);
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let scan = self.scan(true)?;
        self.write_next(&scan, RecordKind::Data, plaintext)
    }

    /// As [`Vault::save`], then once more, so both slots hold `plaintext`:
    /// what the previous save held (an account just removed, its tokens) is
    /// gone from storage as well, not only superseded; so is anything moved
    /// aside earlier. The first write is the commit: when it returns `Ok`
    /// the new record is the newest on storage, and a failure of the second
    /// (or a crash before it) only leaves the older slot for the next save
    /// to overwrite.
    ///
    /// # Errors
    /// As [`Vault::save`], for the first write.
    pub fn save_over_both(&self, plaintext: &[u8]) -> Result<(), VaultError> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(VaultError::TooLarge);
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let scan = self.scan(true)?;
        self.write_next(&scan, RecordKind::Data, plaintext)?;
        let scrubbed = self
            .scan(true)
            .and_then(|scan| self.write_next(&scan, RecordKind::Data, plaintext));
        if let Err(error) = scrubbed {
            tracing::warn!(%error, "could not overwrite the older vault slot; the next save will");
        }
        if let Err(error) = self.storage.remove_set_aside() {
            tracing::warn!(%error, "could not remove a vault set aside earlier");
        }
        Ok(())
    }

    /// The newest session that opens, or `None` when none was saved (or the
    /// last save was [`Vault::clear`]). A clear that was cut short (the
    /// signed-out record written, the slots not yet emptied) is finished here,
    /// so the older, superseded envelope does not stay on disk.
    ///
    /// A slot that does not open next to one that does is ignored (it is the
    /// remains of an interrupted write, overwritten by the next save).
    ///
    /// # Errors
    /// [`VaultError::Unreadable`] when slots hold bytes but none opens: they
    /// are moved aside first, so the next start begins clean.
    /// [`VaultError::Storage`] when no slot could be read at all.
    pub fn load(&self) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let scan = self.scan(false)?;
        for (slot, cause) in &scan.failed {
            tracing::warn!(slot = slot.name(), %cause, "a vault slot did not open");
        }
        match scan.newest {
            Some(opened) => Ok(match opened.kind {
                RecordKind::Data => Some(opened.payload),
                RecordKind::Cleared => {
                    self.finish_clear(Slot::for_generation(opened.generation));
                    None
                }
            }),
            None if scan.failed.is_empty() => Ok(None),
            None => {
                let tag = random_tag()?;
                for (slot, _) in &scan.failed {
                    self.storage
                        .move_aside(*slot, &tag)
                        .map_err(VaultError::Storage)?;
                }
                tracing::warn!(
                    slots = scan.failed.len(),
                    "no vault slot opened; moved them aside, the user must sign in again"
                );
                Err(VaultError::Unreadable {
                    slots: scan.failed.len(),
                    cause: scan.failed[0].1,
                })
            }
        }
    }

    /// Forgets the session (logout, unlink). First seals a "signed out" record
    /// as the newest generation, then empties both slots: if the process dies
    /// half-way, what remains opens as "no session", never as an older one.
    ///
    /// # Errors
    /// [`VaultError::Storage`] if a slot cannot be removed.
    pub fn clear(&self) -> Result<(), VaultError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let tombstone_slot = match self.scan(true).and_then(|scan| {
            self.write_next(&scan, RecordKind::Cleared, &[])
                .map(|()| scan)
        }) {
            Ok(scan) => Some(Slot::for_generation(
                scan.newest.as_ref().map_or(0, |o| o.generation) + 1,
            )),
            Err(error) => {
                // Removing both slots still signs out; only the crash-safety
                // of the removal is lost.
                tracing::warn!(%error, "could not write the signed-out record; removing the slots anyway");
                None
            }
        };
        // The slot without the tombstone first, the tombstone last.
        let mut order = Slot::ALL;
        if tombstone_slot == Some(Slot::A) {
            order.reverse();
        }
        for slot in order {
            self.storage.remove(slot).map_err(VaultError::Storage)?;
        }
        // A damaged session set aside earlier (the user was told then) has
        // no use after a sign-out; its envelopes are sealed, but they are
        // the user's tokens all the same.
        if let Err(error) = self.storage.remove_set_aside() {
            tracing::warn!(%error, "could not remove a vault set aside earlier");
        }
        Ok(())
    }

    /// Reads and opens both slots. With `strict`, a slot that cannot be read
    /// is an error; otherwise it is logged and skipped (as long as another
    /// slot could be read).
    /// Empties both slots after a [`Vault::clear`] that stopped after writing
    /// its signed-out record to `tombstone`: the other slot first, the
    /// record last, as `clear` does. A failure only leaves the remains for
    /// the next start or save.
    fn finish_clear(&self, tombstone: Slot) {
        let other = if tombstone == Slot::A {
            Slot::B
        } else {
            Slot::A
        };
        for slot in [other, tombstone] {
            if let Err(error) = self.storage.remove(slot) {
                tracing::warn!(slot = slot.name(), %error, "could not finish an interrupted sign-out");
                return;
            }
        }
        tracing::info!("finished a sign-out that was cut short");
    }

    fn scan(&self, strict: bool) -> Result<Scan, VaultError> {
        let mut scan = Scan {
            newest: None,
            failed: Vec::new(),
        };
        let mut read_error = None;
        for slot in Slot::ALL {
            let bytes = match self.storage.read(slot) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => continue,
                Err(error) if strict => return Err(VaultError::Storage(error)),
                Err(error) => {
                    tracing::warn!(slot = slot.name(), %error, "a vault slot could not be read");
                    read_error = Some(error);
                    continue;
                }
            };
            match self.sealer.open(slot, &bytes) {
                Ok(opened) => {
                    if scan
                        .newest
                        .as_ref()
                        .is_none_or(|n| opened.generation > n.generation)
                    {
                        scan.newest = Some(opened);
                    }
                }
                Err(cause) => scan.failed.push((slot, cause)),
            }
        }
        match read_error {
            // Nothing opened and a slot could not even be read: it may hold
            // the session, so neither report "no session" nor move anything
            // aside on the strength of a partial view.
            Some(error) if scan.newest.is_none() => Err(VaultError::Storage(error)),
            _ => Ok(scan),
        }
    }

    fn write_next(&self, scan: &Scan, kind: RecordKind, payload: &[u8]) -> Result<(), VaultError> {
        let generation = scan.newest.as_ref().map_or(0, |o| o.generation) + 1;
        let mut nonce = [0u8; slot::NONCE_LEN];
        crate::random::fill(&mut nonce).map_err(|_| VaultError::Seal)?;
        let envelope = self
            .sealer
            .seal(generation, kind, payload, nonce)
            .map_err(|_| VaultError::Seal)?;
        self.storage
            .write(Slot::for_generation(generation), &envelope)
            .map_err(VaultError::Storage)
    }
}

fn random_tag() -> Result<String, VaultError> {
    let mut bytes = [0u8; 6];
    crate::random::fill(&mut bytes).map_err(|_| VaultError::Seal)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::secret::VAULT_KEY_LEN;

    const APP: &str = "dev.kakaodesk.test";

    /// Shares one storage between vaults (as two app runs share the disk).
    #[derive(Debug, Clone, Default)]
    struct Shared(Arc<MemoryVaultStorage>);

    impl VaultStorage for Shared {
        fn read(&self, slot: Slot) -> std::io::Result<Option<Vec<u8>>> {
            self.0.read(slot)
        }
        fn write(&self, slot: Slot, bytes: &[u8]) -> std::io::Result<()> {
            self.0.write(slot, bytes)
        }
        fn remove(&self, slot: Slot) -> std::io::Result<()> {
            self.0.remove(slot)
        }
        fn move_aside(&self, slot: Slot, tag: &str) -> std::io::Result<()> {
            self.0.move_aside(slot, tag)
        }
        fn remove_set_aside(&self) -> std::io::Result<()> {
            self.0.remove_set_aside()
        }
    }

    fn vault(storage: &Shared, key_byte: u8) -> Vault {
        Vault::new(
            APP,
            VaultKey::from_bytes([key_byte; VAULT_KEY_LEN]),
            Box::new(storage.clone()),
        )
    }

    fn loaded(vault: &Vault) -> Option<Vec<u8>> {
        vault.load().expect("loads").map(|bytes| bytes.to_vec())
    }

    #[test]
    fn an_empty_vault_loads_nothing() {
        let storage = Shared::default();
        assert_eq!(
            loaded(&vault(&storage, 1)),
            None,
            "nothing saved yet is not an error"
        );
    }

    #[test]
    fn saves_alternate_slots_and_the_newest_wins() {
        let storage = Shared::default();
        let v = vault(&storage, 1);
        v.save(b"one").unwrap();
        assert_eq!(
            storage.0.records().len(),
            1,
            "the first save fills one slot"
        );
        v.save(b"two").unwrap();
        v.save(b"three").unwrap();
        assert_eq!(
            loaded(&v),
            Some(b"three".to_vec()),
            "the newest generation wins"
        );
        assert_eq!(
            loaded(&vault(&storage, 1)),
            Some(b"three".to_vec()),
            "a new vault over the same storage (the next app start) sees it too"
        );
        let records = storage.0.records();
        assert_eq!(records.len(), 2, "two slots, no more");
        assert!(
            records
                .values()
                .all(|r| !r.windows(3).any(|w| w == b"two" || w == b"thr")),
            "no plaintext reaches storage"
        );
    }

    #[test]
    fn a_torn_newest_slot_falls_back_to_the_previous_save() {
        let storage = Shared::default();
        let v = vault(&storage, 1);
        v.save(b"older").unwrap(); // generation 1, slot A
        v.save(b"newer").unwrap(); // generation 2, slot B
        let mut torn = storage.0.read(Slot::B).unwrap().unwrap();
        torn.truncate(torn.len() / 2);
        storage.0.write(Slot::B, &torn).unwrap();
        assert_eq!(
            loaded(&v),
            Some(b"older".to_vec()),
            "a write cut short loses only itself"
        );
        v.save(b"after").unwrap();
        assert_eq!(
            loaded(&v),
            Some(b"after".to_vec()),
            "the next save replaces the torn slot"
        );
        assert!(
            storage.0.read(Slot::A).unwrap().is_some(),
            "the save went into the torn slot, keeping the good one"
        );
    }

    #[test]
    fn a_vault_no_slot_of_which_opens_is_moved_aside() {
        let storage = Shared::default();
        vault(&storage, 1).save(b"session").unwrap();
        vault(&storage, 1).save(b"session 2").unwrap();
        let error = vault(&storage, 2)
            .load()
            .expect_err("another key must not open it");
        assert!(
            matches!(error, VaultError::Unreadable { slots: 2, .. }),
            "{error:?}"
        );
        assert_eq!(error.code(), ErrorCode::SessionExpired, "a clean sign-out");
        let names: Vec<String> = storage.0.records().into_keys().collect();
        assert_eq!(names.len(), 2, "the bytes are kept for diagnosis");
        assert!(
            names.iter().all(|n| n.contains(".unreadable-")),
            "both slots were moved aside: {names:?}"
        );
        assert_eq!(
            loaded(&vault(&storage, 2)),
            None,
            "the next start begins clean instead of failing again"
        );
        // The user logs in again, then out: what was set aside goes too.
        let again = vault(&storage, 2);
        again.save(b"new session").unwrap();
        again.clear().unwrap();
        assert!(
            storage.0.records().is_empty(),
            "a sign-out leaves no set-aside session behind: {:?}",
            storage.0.records().keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn clear_signs_out_even_against_older_slots() {
        let storage = Shared::default();
        let v = vault(&storage, 1);
        v.save(b"one").unwrap();
        v.save(b"two").unwrap();
        v.clear().unwrap();
        assert_eq!(loaded(&v), None, "cleared");
        assert!(storage.0.records().is_empty(), "both slots are emptied");

        // A crash inside clear, after the tombstone and before the removals:
        // simulate by writing the tombstone only.
        v.save(b"three").unwrap();
        v.save(b"four").unwrap();
        let scan = v.scan(true).unwrap();
        v.write_next(&scan, RecordKind::Cleared, &[]).unwrap();
        assert_eq!(
            storage.0.records().len(),
            2,
            "the older session is still on disk"
        );
        assert_eq!(loaded(&v), None, "the tombstone hides the older session");
        assert!(
            storage.0.records().is_empty(),
            "loading finished the interrupted clear: {:?}",
            storage.0.records().keys().collect::<Vec<_>>()
        );
        assert_eq!(loaded(&v), None, "and it stays signed out");
        v.save(b"five").unwrap();
        assert_eq!(
            loaded(&v),
            Some(b"five".to_vec()),
            "a later login saves normally"
        );
    }

    #[test]
    fn saving_over_both_slots_leaves_nothing_of_the_previous_record() {
        let storage = Shared::default();
        let v = vault(&storage, 1);
        v.save(b"with both accounts").unwrap();
        v.save(b"with both accounts, refreshed").unwrap();
        v.save_over_both(b"one account left").unwrap();
        let reopened = vault(&storage, 1);
        assert_eq!(loaded(&reopened), Some(b"one account left".to_vec()));
        for slot in Slot::ALL {
            let bytes = storage.0.read(slot).unwrap().expect("both slots hold it");
            let opened = reopened.sealer.open(slot, &bytes).expect("opens");
            assert_eq!(
                &opened.payload[..],
                b"one account left",
                "{slot:?} no longer holds the removed account"
            );
        }
    }

    #[test]
    fn oversized_records_are_refused() {
        let storage = Shared::default();
        let error = vault(&storage, 1)
            .save(&vec![0; MAX_PLAINTEXT_LEN + 1])
            .expect_err("over the cap");
        assert!(matches!(error, VaultError::TooLarge));
        assert!(storage.0.records().is_empty(), "nothing was written");
    }
}

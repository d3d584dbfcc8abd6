//! Where the vault's sealed slots are kept: a small trait, a file-backed
//! implementation and an in-memory one.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::slot::{MAX_ENVELOPE_LEN, Slot};

/// Keeps the vault's sealed slots. The vault does the crypto and the crash
/// safety; a storage only keeps opaque bytes under a slot's name.
///
/// # Each slot must be independent
/// A write to one slot must never touch the other: the vault relies on the
/// older slot staying intact while the newer one is being written. So each
/// slot must be **its own file or record**. With `tauri-plugin-store` this
/// means one store (one JSON file) per slot, e.g. `session-a.json` and
/// `session-b.json`, never two keys in one store: that plugin saves a whole
/// file with a plain `fs::write` (truncate, then write), so a crash mid-save
/// would tear both slots at once. A write need not be atomic: a torn slot fails
/// to authenticate and the other slot wins. It must, however, have reached the
/// file when `write` returns: call the store's `save()` explicitly rather than
/// relying on its debounced auto-save, or a "saved" refresh token could still
/// be only in memory when the app quits.
///
/// ```ignore
/// // In the Tauri shell (sketch): one store per slot, bytes as base64.
/// impl VaultStorage for StoreBackedSlots {
///     fn read(&self, slot: Slot) -> io::Result<Option<Vec<u8>>> {
///         let store = self.app.store(format!("{}.json", slot.name())).map_err(io::Error::other)?;
///         store.get("envelope").and_then(|v| v.as_str().map(str::to_owned))
///             .map(|b64| BASE64.decode(b64).map_err(io::Error::other)).transpose()
///     }
///     fn write(&self, slot: Slot, bytes: &[u8]) -> io::Result<()> {
///         let store = self.app.store(format!("{}.json", slot.name())).map_err(io::Error::other)?;
///         store.set("envelope", BASE64.encode(bytes));
///         store.save().map_err(io::Error::other)
///     }
///     // remove: store.delete("envelope") + save; move_aside: copy the value into
///     // "<name>.unreadable-<tag>.json", then remove.
/// }
/// ```
///
/// # Errors
/// Every method reports I/O failures as [`io::Error`]; backends wrap their own
/// errors with [`io::Error::other`]. A missing slot is not an error.
pub trait VaultStorage: Send + Sync + std::fmt::Debug {
    /// The bytes last written to `slot`, or `None` if it is empty.
    fn read(&self, slot: Slot) -> io::Result<Option<Vec<u8>>>;

    /// Replaces the bytes of `slot`. Must not touch the other slot.
    fn write(&self, slot: Slot, bytes: &[u8]) -> io::Result<()>;

    /// Empties `slot`. Removing an empty slot succeeds.
    fn remove(&self, slot: Slot) -> io::Result<()>;

    /// Keeps `slot`'s bytes under another name that includes `tag` (for
    /// diagnosis; the vault never reads them again) and empties the slot.
    /// Moving an empty slot succeeds.
    fn move_aside(&self, slot: Slot, tag: &str) -> io::Result<()>;

    /// Removes everything [`VaultStorage::move_aside`] kept. Removing nothing
    /// succeeds.
    fn remove_set_aside(&self) -> io::Result<()>;
}

/// Whether `name` is one [`VaultStorage::move_aside`] gave a slot's bytes
/// (`session-a.<anything>unreadable-<tag>…`).
pub fn is_set_aside(name: &str) -> bool {
    Slot::ALL
        .iter()
        .any(|slot| name.starts_with(slot.name()) && name.contains(".unreadable-"))
}

/// Slots as files in one directory: `<dir>/session-a.vault`,
/// `<dir>/session-b.vault`.
///
/// Each write goes to a temporary file in the same directory, is flushed to
/// disk (`fsync`), and renamed over the slot, then the directory itself is
/// flushed: a crash leaves the old file or the new one, never a mix. Files are
/// created with mode 0600 on Unix. Suited to tests and to non-Tauri users.
#[derive(Debug, Clone)]
pub struct FileVaultStorage {
    dir: PathBuf,
}

impl FileVaultStorage {
    /// Slots in `dir`, which is created (mode 0700 on Unix) on first write.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of a slot.
    pub fn path(&self, slot: Slot) -> PathBuf {
        self.dir.join(format!("{}.vault", slot.name()))
    }

    fn ensure_dir(&self) -> io::Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&self.dir)
    }
}

impl VaultStorage for FileVaultStorage {
    fn read(&self, slot: Slot) -> io::Result<Option<Vec<u8>>> {
        let file = match File::open(self.path(slot)) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        // Never more than the largest envelope and one byte: an oversized
        // file then fails to authenticate instead of filling memory.
        let mut bytes = Vec::new();
        file.take(MAX_ENVELOPE_LEN as u64 + 1)
            .read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    fn write(&self, slot: Slot, bytes: &[u8]) -> io::Result<()> {
        self.ensure_dir()?;
        let target = self.path(slot);
        // One fixed temporary name per slot: the vault writes one slot at a
        // time, and a leftover from a crash is simply overwritten next time.
        let temp = self.dir.join(format!(".{}.vault.tmp", slot.name()));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &target)?;
        sync_dir(&self.dir)
    }

    fn remove(&self, slot: Slot) -> io::Result<()> {
        match fs::remove_file(self.path(slot)) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn move_aside(&self, slot: Slot, tag: &str) -> io::Result<()> {
        let aside = self
            .dir
            .join(format!("{}.vault.unreadable-{tag}", slot.name()));
        match fs::rename(self.path(slot), aside) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn remove_set_aside(&self) -> io::Result<()> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut removed = false;
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_str().is_some_and(is_set_aside) {
                fs::remove_file(entry.path())?;
                removed = true;
            }
        }
        if removed { sync_dir(&self.dir) } else { Ok(()) }
    }
}

/// Flushes a directory entry change (rename, unlink) to disk. Only Unix can
/// open a directory for that; elsewhere the rename is as durable as the OS
/// makes it.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Slots in memory: for tests, and for a session kept only while the app runs.
#[derive(Debug, Default)]
pub struct MemoryVaultStorage {
    slots: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryVaultStorage {
    /// Empty slots.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored record by name, moved-aside ones included (for tests).
    pub fn records(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // The map is never left half-updated, so a poisoned lock is still sound.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl VaultStorage for MemoryVaultStorage {
    fn read(&self, slot: Slot) -> io::Result<Option<Vec<u8>>> {
        Ok(self.lock().get(slot.name()).cloned())
    }

    fn write(&self, slot: Slot, bytes: &[u8]) -> io::Result<()> {
        self.lock().insert(slot.name().to_owned(), bytes.to_vec());
        Ok(())
    }

    fn remove(&self, slot: Slot) -> io::Result<()> {
        self.lock().remove(slot.name());
        Ok(())
    }

    fn move_aside(&self, slot: Slot, tag: &str) -> io::Result<()> {
        let mut slots = self.lock();
        if let Some(bytes) = slots.remove(slot.name()) {
            slots.insert(format!("{}.unreadable-{tag}", slot.name()), bytes);
        }
        Ok(())
    }

    fn remove_set_aside(&self) -> io::Result<()> {
        self.lock().retain(|name, _| !is_set_aside(name));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_storage_round_trips_and_moves_aside() {
        let dir = tempfile::tempdir().unwrap();
        let storage = FileVaultStorage::new(dir.path().join("vault"));
        assert_eq!(
            storage.read(Slot::A).unwrap(),
            None,
            "an empty slot reads as None"
        );
        storage.write(Slot::A, b"one").unwrap();
        storage.write(Slot::A, b"two").unwrap();
        storage.write(Slot::B, b"other").unwrap();
        assert_eq!(
            storage.read(Slot::A).unwrap().as_deref(),
            Some(&b"two"[..]),
            "a write replaces"
        );
        assert_eq!(
            storage.read(Slot::B).unwrap().as_deref(),
            Some(&b"other"[..]),
            "slots are separate"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(storage.path(Slot::A))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "slot files are private to the user");
        }
        storage.move_aside(Slot::A, "t1").unwrap();
        assert_eq!(
            storage.read(Slot::A).unwrap(),
            None,
            "moved aside empties the slot"
        );
        assert!(
            dir.path()
                .join("vault/session-a.vault.unreadable-t1")
                .exists(),
            "the bytes are kept for diagnosis"
        );
        storage.remove(Slot::B).unwrap();
        storage.remove(Slot::B).unwrap();
        storage.move_aside(Slot::B, "t2").unwrap();
        storage.write(Slot::B, b"kept").unwrap();
        storage.remove_set_aside().unwrap();
        assert!(
            !dir.path()
                .join("vault/session-a.vault.unreadable-t1")
                .exists(),
            "what was set aside is removed on request"
        );
        assert_eq!(
            storage.read(Slot::B).unwrap().as_deref(),
            Some(&b"kept"[..]),
            "the slots themselves are untouched"
        );
        storage.remove(Slot::B).unwrap();
        assert_eq!(
            storage.read(Slot::B).unwrap(),
            None,
            "removing twice or moving nothing is fine"
        );
    }
}

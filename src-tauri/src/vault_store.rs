//! The session vault's slots in tauri-plugin-store.
//!
//! Each slot is its own store file (`session-a.json`, `session-b.json`) holding
//! one value, the sealed envelope as base64. Never two slots in one store: the
//! plugin saves a whole file with a plain `fs::write` (truncate, then write), so
//! a crash mid-save would tear both at once. A torn file is harmless: the
//! plugin loads it as empty (or the envelope fails to authenticate), and the
//! vault in the core falls back to the other slot.
//!
//! The webview has no store permission, so it cannot read these files' values
//! — which are ciphertext anyway.

use std::io;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kakao_desk_core::vault::{Slot, VaultStorage, is_set_aside};
use tauri::{AppHandle, Wry};
use tauri_plugin_store::StoreExt;

const ENVELOPE_KEY: &str = "envelope";

/// Vault slots backed by tauri-plugin-store.
#[derive(Clone)]
pub struct StoreSlots {
    app: AppHandle<Wry>,
    /// The app's data directory, where the plugin keeps the store files.
    dir: PathBuf,
}

impl std::fmt::Debug for StoreSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSlots").finish_non_exhaustive()
    }
}

impl StoreSlots {
    /// Slots in the app's data directory `dir` (where the plugin resolves
    /// relative store paths).
    pub fn new(app: AppHandle<Wry>, dir: PathBuf) -> Self {
        Self { app, dir }
    }

    fn file(name: &str) -> String {
        format!("{name}.json")
    }

    fn write_named(&self, name: &str, value: Option<String>) -> io::Result<()> {
        let store = self.app.store(Self::file(name)).map_err(io::Error::other)?;
        match value {
            Some(value) => store.set(ENVELOPE_KEY, value),
            None => {
                store.delete(ENVELOPE_KEY);
            }
        }
        // The plugin's plain write keeps the mode of a file that exists.
        crate::files::private_file(&self.dir.join(Self::file(name)))?;
        // Saved now, not by the plugin's debounced auto-save: a refresh token
        // the vault reports as saved must be on disk.
        store.save().map_err(io::Error::other)
    }
}

impl VaultStorage for StoreSlots {
    fn read(&self, slot: Slot) -> io::Result<Option<Vec<u8>>> {
        let store = self
            .app
            .store(Self::file(slot.name()))
            .map_err(io::Error::other)?;
        match store.get(ENVELOPE_KEY) {
            None => Ok(None),
            Some(value) => {
                // Anything but base64 text is a damaged slot: hand the vault
                // bytes that fail to authenticate, so the other slot wins.
                let text = value.as_str().unwrap_or_default();
                Ok(Some(BASE64.decode(text).unwrap_or_default()))
            }
        }
    }

    fn write(&self, slot: Slot, bytes: &[u8]) -> io::Result<()> {
        self.write_named(slot.name(), Some(BASE64.encode(bytes)))
    }

    fn remove(&self, slot: Slot) -> io::Result<()> {
        self.write_named(slot.name(), None)
    }

    fn move_aside(&self, slot: Slot, tag: &str) -> io::Result<()> {
        let store = self
            .app
            .store(Self::file(slot.name()))
            .map_err(io::Error::other)?;
        if let Some(value) = store.get(ENVELOPE_KEY) {
            let aside = format!("{}.unreadable-{tag}", slot.name());
            self.write_named(&aside, value.as_str().map(str::to_owned))?;
        }
        self.remove(slot)
    }

    fn remove_set_aside(&self) -> io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.file_name().to_str().is_some_and(is_set_aside) {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

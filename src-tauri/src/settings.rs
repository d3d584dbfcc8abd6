//! The user's UI preferences, remembered across starts.
//!
//! Kept by tauri-plugin-store in `settings.json` in the app's data directory,
//! read and written from Rust only: the webview has no store permission, since
//! the session vault lives in the same plugin.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kakao_desk_core::{ErrorCode, Language};
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_store::{Store, StoreExt};

use crate::ipc::IpcError;

const FILE: &str = "settings.json";
const LANGUAGE_KEY: &str = "language";

/// The remembered preferences (managed state).
pub struct Settings {
    store: Option<Arc<Store<Wry>>>,
    /// The store's file, made private before each save.
    path: Option<PathBuf>,
    language: Mutex<Language>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("language", &self.language())
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Loads the preferences; a missing or unreadable file gives the defaults
    /// (the system language) and is logged, never fatal.
    pub fn load(app: &AppHandle) -> Self {
        let store = match app.store(FILE) {
            Ok(store) => Some(store),
            Err(error) => {
                tracing::warn!(%error, "settings unreadable; using defaults");
                None
            }
        };
        let remembered = store
            .as_ref()
            .and_then(|s| s.get(LANGUAGE_KEY))
            .and_then(|v| v.as_str().and_then(Language::from_tag));
        Self {
            store,
            path: app.path().app_data_dir().ok().map(|dir| dir.join(FILE)),
            language: Mutex::new(remembered.unwrap_or_else(system_language)),
        }
    }

    /// The language the UI speaks now.
    pub fn language(&self) -> Language {
        *self.language.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Switches and remembers the language.
    ///
    /// # Errors
    /// `storage` when the choice could not be saved; the switch still applies
    /// for this run.
    pub fn set_language(&self, language: Language) -> Result<(), IpcError> {
        *self.language.lock().unwrap_or_else(|e| e.into_inner()) = language;
        let store = self
            .store
            .as_ref()
            .ok_or(IpcError::new(ErrorCode::Storage, language))?;
        store.set(LANGUAGE_KEY, language.tag());
        let saved = self
            .path
            .as_deref()
            .ok_or_else(|| std::io::Error::other("no app data directory"))
            .and_then(|path| {
                if let Some(dir) = path.parent() {
                    crate::files::private_dir(dir)?;
                }
                crate::files::private_file(path)
            })
            .map_err(|e| e.to_string())
            .and_then(|()| store.save().map_err(|e| e.to_string()));
        saved.map_err(|error| {
            tracing::warn!(%error, "could not save the language");
            IpcError::new(ErrorCode::Storage, language)
        })
    }
}

/// The language of the system locale (`LC_ALL`/`LC_MESSAGES`/`LANG` on Linux,
/// the user's preferred languages on Windows and macOS); English when unknown.
pub fn system_language() -> Language {
    sys_locale::get_locale()
        .map(|tag| Language::from_locale(&tag))
        .unwrap_or(Language::En)
}

//! Commands the UI may call. Each is a few lines: take state and arguments, call
//! one function, map the error. Each is allowed only by its permission in
//! `src-tauri/permissions/`, granted to the main window in
//! `src-tauri/capabilities/main.json`.

use std::collections::BTreeMap;

use kakao_desk_core::Language;
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;

use crate::inbox::Inbox;
use crate::ipc::{self, AppEvent, IpcError};
use crate::settings::{self, Settings};

/// What the UI needs to draw its first screen.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UiState {
    /// The language to speak.
    pub language: Language,
    /// The system locale's language, for "follow the system".
    pub system_language: Language,
    /// Every error message in `language`, keyed by code.
    pub error_messages: BTreeMap<&'static str, &'static str>,
    /// The app version.
    pub version: &'static str,
}

impl UiState {
    fn new(language: Language) -> Self {
        Self {
            language,
            system_language: settings::system_language(),
            error_messages: ipc::error_messages(language),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The page has loaded: connect its event channel (queued events go out
/// first) and return the state to draw.
#[tauri::command]
pub fn ui_ready(
    events: Channel<AppEvent>,
    inbox: State<'_, Inbox>,
    settings: State<'_, Settings>,
) -> UiState {
    inbox.connect(Box::new(events));
    tracing::info!("ui ready");
    UiState::new(settings.language())
}

/// Switches the UI language and remembers it.
///
/// # Errors
/// `storage` when the choice could not be saved (it still applies for this run).
#[tauri::command]
pub fn set_language(
    language: Language,
    settings: State<'_, Settings>,
) -> Result<UiState, IpcError> {
    settings.set_language(language)?;
    Ok(UiState::new(language))
}

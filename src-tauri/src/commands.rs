//! Commands the UI may call. Each is a few lines: take state and arguments, call
//! one function, map the error. Each is allowed only by its permission in
//! `src-tauri/permissions/`, granted to the main window in
//! `src-tauri/capabilities/main.json`. State changes reach the UI as session
//! events on its channel, so commands return nothing but errors.

use std::collections::BTreeMap;

use kakao_desk_core::Language;
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;

use crate::bench;
use crate::desk::Desk;
use crate::inbox::Inbox;
use crate::ipc::{self, AppEvent, IpcError};
use crate::settings::{self, Settings};

/// What the UI needs besides the session (which comes as the channel's first
/// event).
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
    /// Whether the page should report its timing marks (benchmarks only).
    pub bench: bool,
}

impl UiState {
    fn new(language: Language) -> Self {
        Self {
            language,
            system_language: settings::system_language(),
            error_messages: ipc::error_messages(language),
            version: env!("CARGO_PKG_VERSION"),
            bench: bench::enabled(),
        }
    }
}

/// The page has loaded: connect its event channel (queued events go out
/// first, then the current session) and return what to draw.
#[tauri::command]
pub async fn ui_ready(
    events: Channel<AppEvent>,
    inbox: State<'_, Inbox>,
    settings: State<'_, Settings>,
    desk: State<'_, Desk>,
) -> Result<UiState, IpcError> {
    bench::mark("first-script");
    inbox.connect(Box::new(events));
    desk.publish().await;
    tracing::info!("ui ready");
    Ok(UiState::new(settings.language()))
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

/// Opens Kakao's login page in the system browser.
#[tauri::command]
pub async fn begin_login(desk: State<'_, Desk>) -> Result<(), IpcError> {
    desk.begin_login().await
}

/// Opens the waiting login's page in the browser again.
#[tauri::command]
pub fn reopen_browser(desk: State<'_, Desk>) -> Result<(), IpcError> {
    desk.reopen_browser()
}

/// Cancels the waiting login.
#[tauri::command]
pub async fn cancel_login(desk: State<'_, Desk>) -> Result<(), IpcError> {
    desk.cancel_login().await;
    Ok(())
}

/// Logs out.
#[tauri::command]
pub async fn logout(desk: State<'_, Desk>) -> Result<(), IpcError> {
    desk.logout().await
}

/// Disconnects the app from the Kakao account.
#[tauri::command]
pub async fn unlink(desk: State<'_, Desk>) -> Result<(), IpcError> {
    desk.unlink().await
}

/// A timing mark from the page, printed only when benchmarking
/// ([`bench::VARIABLE`]); unknown names are ignored.
#[tauri::command]
pub fn bench_mark(mark: String) {
    if let Some(name) = bench::PAGE_MARKS.iter().find(|m| **m == mark) {
        bench::mark(name);
    }
}

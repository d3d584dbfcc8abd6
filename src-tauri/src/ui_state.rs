//! What the page needs to draw besides later events: the language, the
//! messages, and the session view of now. `ui_ready` answers with it, and
//! the main window is built with it (`window.rs`).

use std::collections::BTreeMap;

use kakao_desk_core::Language;
use serde::Serialize;

use crate::bench;
use crate::ipc::{self, SessionView};
use crate::logs::LogDir;
use crate::settings;

/// What the UI needs to draw: the language, the messages, and (from
/// `ui_ready`) the session.
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
    /// Where the log files are, for the "About" view (none when the
    /// directory could not be made).
    pub log_dir: Option<String>,
    /// The session view of now (`ui_ready` only; later views come through
    /// the channel).
    pub session: Option<SessionView>,
}

impl UiState {
    /// What to draw in `language`, without a session view.
    pub fn new(language: Language, logs: &LogDir) -> Self {
        Self {
            log_dir: logs.0.as_ref().map(|dir| dir.display().to_string()),
            language,
            system_language: settings::system_language(),
            error_messages: ipc::error_messages(language),
            version: env!("CARGO_PKG_VERSION"),
            bench: bench::enabled(),
            session: None,
        }
    }
}

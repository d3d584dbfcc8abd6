//! What crosses the IPC boundary to the webview.
//!
//! The webview is the least trusted part of the app, so it receives public
//! facts only: never a token, an authorization code, a PKCE verifier or a key.
//! Errors cross as `{code, message}`; the UI switches on `code`, never on text.

use std::collections::BTreeMap;

use kakao_desk_core::{ErrorCode, Language};
use serde::Serialize;

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    /// Stable code (DESIGN §6).
    pub code: ErrorCode,
    /// What happened and what to do, in the app's current language.
    pub message: &'static str,
}

impl IpcError {
    /// The error for `code`, worded in `language`.
    pub fn new(code: ErrorCode, language: Language) -> Self {
        Self {
            code,
            message: code.message(language),
        }
    }
}

/// One state change the UI must show, sent through the channel the UI hands
/// over in `ui_ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// A link of the app's scheme addressed to `oauth/callback` arrived. Only
    /// the names of its query parameters cross, never their values.
    CallbackReceived {
        /// Query parameter names, in order (`["code", "state"]`).
        parameters: Vec<String>,
    },
    /// Something the user should know went wrong.
    Error(IpcError),
}

/// Every error message in one language, keyed by code, so the UI can re-render
/// a shown error when the user switches language without a round trip.
pub fn error_messages(language: Language) -> BTreeMap<&'static str, &'static str> {
    ErrorCode::ALL
        .into_iter()
        .map(|code| (code.as_str(), code.message(language)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_to_the_shape_the_ui_reads() {
        let event = AppEvent::Error(IpcError::new(ErrorCode::InvalidCallback, Language::En));
        let json = serde_json::to_value(&event).expect("serializable");
        assert_eq!(json["type"], "error", "the UI dispatches on `type`");
        assert_eq!(
            json["code"], "invalid_callback",
            "the UI switches on `code`"
        );
        assert_eq!(
            json["message"],
            ErrorCode::InvalidCallback.message(Language::En),
            "the message is in the requested language"
        );
        let received = AppEvent::CallbackReceived {
            parameters: vec!["code".into(), "state".into()],
        };
        let json = serde_json::to_value(&received).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({"type": "callback_received", "parameters": ["code", "state"]})
        );
    }

    #[test]
    fn the_message_table_covers_every_code() {
        let table = error_messages(Language::Ko);
        assert_eq!(table.len(), ErrorCode::ALL.len(), "one message per code");
        assert_eq!(table["network"], ErrorCode::Network.message(Language::Ko));
    }
}

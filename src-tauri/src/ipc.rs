//! What crosses the IPC boundary to the webview.
//!
//! The webview is the least trusted part of the app, so it receives public
//! facts only: never a token, an authorization code, a PKCE verifier or a key.
//! Errors cross as `{code, message}`; the UI switches on `code`, never on text.

use std::collections::BTreeMap;

use kakao_desk_core::login::{AccountView, ConsentNote, ConsentOffer, LoginError};
use kakao_desk_core::profile::PublicProfile;
use kakao_desk_core::{ErrorCode, Language};
use serde::Serialize;

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    /// Stable code: the UI switches on it, never on the message.
    pub code: ErrorCode,
    /// What happened and what to do, in the app's current language.
    pub message: String,
    /// The port a `port_unavailable` message names: the UI fills it into the
    /// other language's template when the user switches language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl IpcError {
    /// The error for `code`, worded in `language`.
    pub fn new(code: ErrorCode, language: Language) -> Self {
        Self::naming(code, language, None)
    }

    /// A login operation's failure, worded in `language` with the facts its
    /// message names.
    pub fn of_login(error: &LoginError, language: Language) -> Self {
        Self::naming(error.code(), language, error.port())
    }

    fn naming(code: ErrorCode, language: Language, port: Option<u16>) -> Self {
        Self {
            code,
            message: code.message_for(language, port),
            port,
        }
    }
}

/// One state change the UI must show, sent through the channel the UI hands
/// over in `ui_ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppEvent {
    /// The session changed: the UI redraws from this view alone.
    Session {
        /// The whole state to draw (boxed: it is much larger than an error).
        session: Box<SessionView>,
    },
    /// Something the user should know went wrong.
    Error(IpcError),
}

/// Where the user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// The app is still opening the vault and the cache (a few milliseconds).
    Starting,
    /// Not signed in: the login screen.
    SignedOut,
    /// A login waits for the browser.
    Waiting,
    /// Signed in: the profile card.
    SignedIn,
}

/// Everything the UI draws, in one value. Public facts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The view's place in the order views were made (from 1; 0 for a view
    /// not sent yet). The page draws a view only if it is not older than the
    /// one on screen: the view `ui_ready` answers with and the channel's
    /// events travel separately and may arrive in either order.
    pub seq: u64,
    /// Which screen.
    pub state: SessionState,
    /// The signed-in user's profile (avatar as a `data:` URL of cached bytes).
    pub profile: Option<PublicProfile>,
    /// When the signed-in user last logged in on this device (Unix ms).
    pub last_login_at: Option<i64>,
    /// Kakao could not be reached the last time the app tried: the profile is
    /// the cached one.
    pub offline: bool,
    /// Signed out, but an account was used here before: "continue as …".
    pub continue_as: Option<ContinueAs>,
    /// The login in progress.
    pub login: Option<LoginView>,
    /// Running against the bundled emulator (demo mode): the UI shows a
    /// banner.
    pub demo: bool,
    /// The profile card's "add …" actions (additional consent).
    pub consent_offers: Vec<ConsentOffer>,
    /// How the last additional consent ended (`{offer, outcome}`, outcome
    /// `added`, `declined` or `failed`).
    pub consent_note: Option<ConsentNote>,
    /// The accounts used on this device, for the account switcher: the one
    /// in use first, then the other signed-in ones, then signed-out ones.
    pub accounts: Vec<AccountView>,
    /// Logout can also sign the browser out of the Kakao Account (a logout
    /// redirect URI is configured).
    pub browser_sign_out: bool,
    /// The card may offer to withdraw shared items (direct mode; in backend
    /// mode consent is the server's).
    pub withdraw: bool,
}

impl SessionView {
    /// The view of `state` with nothing else known.
    pub fn bare(state: SessionState) -> Self {
        Self {
            seq: 0,
            state,
            profile: None,
            last_login_at: None,
            offline: false,
            continue_as: None,
            login: None,
            demo: false,
            consent_offers: Vec::new(),
            consent_note: None,
            accounts: Vec::new(),
            browser_sign_out: false,
            withdraw: false,
        }
    }
}

/// The account shown as "continue as …" on the login screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinueAs {
    /// Its nickname.
    pub nickname: Option<String>,
    /// Its cached thumbnail as a `data:` URL.
    pub thumbnail_data_url: Option<String>,
}

/// A login waiting for the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginView {
    /// When it gives up (Unix ms), for the countdown.
    pub deadline: i64,
    /// Known from the id_token while the profile is still loading.
    pub first_paint: Option<FirstPaint>,
}

/// What the id_token says before `/v2/user/me` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstPaint {
    /// The nickname claim.
    pub nickname: Option<String>,
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
        let session = AppEvent::Session {
            session: Box::new(SessionView::bare(SessionState::SignedOut)),
        };
        let json = serde_json::to_value(&session).expect("serializable");
        assert_eq!(
            json,
            serde_json::json!({"type": "session", "session": {
                "seq": 0, "state": "signed_out", "profile": null, "lastLoginAt": null, "offline": false,
                "continueAs": null, "login": null, "demo": false,
                "consentOffers": [], "consentNote": null, "accounts": [], "browserSignOut": false, "withdraw": false
            }}),
            "the UI reads these exact names"
        );
    }

    #[test]
    fn a_port_error_names_its_port_for_the_ui() {
        let bind = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let error = LoginError::from(kakao_desk_core::loopback::LoopbackError::Bind {
            addr: "127.0.0.1:41785".parse().expect("address"),
            source: bind,
        });
        let json = serde_json::to_value(IpcError::of_login(&error, Language::Ko)).expect("json");
        assert_eq!(json["code"], "port_unavailable");
        assert_eq!(
            json["port"], 41785,
            "the UI re-renders the template with it"
        );
        let message = json["message"].as_str().expect("a message");
        assert!(
            message.contains("41785") && !message.contains("{port}"),
            "{message}"
        );
        let plain =
            serde_json::to_value(IpcError::new(ErrorCode::Network, Language::Ko)).expect("json");
        assert!(plain.get("port").is_none(), "no port, no field: {plain}");
    }

    #[test]
    fn the_message_table_covers_every_code() {
        let table = error_messages(Language::Ko);
        assert_eq!(table.len(), ErrorCode::ALL.len(), "one message per code");
        assert_eq!(table["network"], ErrorCode::Network.message(Language::Ko));
    }
}

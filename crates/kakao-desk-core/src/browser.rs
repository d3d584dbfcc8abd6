//! The system browser, injected.
//!
//! Kakao's authorize page opens in the user's own browser, never in an
//! embedded webview: the user's Kakao session, password manager and security
//! indicators live there, and the app never sees the password. The shell
//! provides the real opener (on Linux, `xdg-open` through
//! tauri-plugin-opener); tests record what would have been opened.

use thiserror::Error;

use crate::secret::SecretUrl;

/// Opens URLs in the system browser.
pub trait Browser: Send + Sync + std::fmt::Debug {
    /// Opens `url` in the user's default browser.
    ///
    /// # Errors
    /// [`BrowserError`] when no browser could be started.
    ///
    /// # Security
    /// The URL carries `state` and `nonce`: hand `url.secret()` to the OS and
    /// to nothing else; never log it.
    fn open(&self, url: &SecretUrl) -> Result<(), BrowserError>;
}

/// No browser could be started.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the system browser could not be opened: {reason}")]
pub struct BrowserError {
    /// What the opener said (never the URL).
    pub reason: String,
}

impl BrowserError {
    /// An error with the opener's explanation.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

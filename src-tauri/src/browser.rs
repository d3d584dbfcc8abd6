//! The system browser for the login core: tauri-plugin-opener (detached
//! `xdg-open` on Linux, which honours `BROWSER` when no desktop environment is
//! detected — the end-to-end tests rely on that).

use kakao_desk_core::browser::{Browser, BrowserError};
use kakao_desk_core::secret::SecretUrl;
use tauri::AppHandle;
use tauri_plugin_opener::OpenerExt;

/// Opens URLs with the desktop's standard mechanism.
pub struct SystemBrowser(pub AppHandle);

impl std::fmt::Debug for SystemBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemBrowser")
    }
}

impl Browser for SystemBrowser {
    fn open(&self, url: &SecretUrl) -> Result<(), BrowserError> {
        self.0
            .opener()
            .open_url(url.secret().as_str(), None::<&str>)
            .map_err(|error| {
                BrowserError::new(match error {
                    tauri_plugin_opener::Error::Io(e) => {
                        format!("the opener could not be started ({})", e.kind())
                    }
                    // Other errors' text may repeat the URL, which carries
                    // state and nonce: never pass it on.
                    _ => "the opener refused the URL".to_owned(),
                })
            })
    }
}

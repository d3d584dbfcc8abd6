//! The main window, opened once the first view is known.
//!
//! A restored session is on screen before the page's first script would
//! have had an answer from Rust: the window is built after start-up has
//! opened the vault and the cache (about 25 ms on the benchmark machine, while
//! Tauri and GTK start), with the page's first [`UiState`], session view
//! included, in an initialization script. The page draws it before its first
//! layout, then connects its channel through `ui_ready` as before. If the
//! stores take longer than [`MAX_WAIT`] (a keychain that asks for a
//! password, a slow disk, the demo emulator's start), a timer builds the
//! window with the "starting" view, which draws nothing, and the page draws
//! from `ui_ready`'s answer (BENCHMARKS.md, "Start-up").
//!
//! The script holds only what the UI shows (the profile card's nickname,
//! avatar, and email and birthday if shared; never a token), and only for
//! the app's own origin. Initialization scripts run again on every load of
//! the page, so a reloaded page would be handed the first view of the run:
//! the script hands it over once per window (a `sessionStorage` flag the
//! page sets), and the page draws a view only if it is not older than the
//! one on screen. The view can be a few hundred milliseconds old when the
//! page draws it (a link handled meanwhile); the answer to `ui_ready`
//! replaces it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tauri::{Manager, WebviewWindowBuilder};

use crate::handle::LoginHandle;
use crate::logs::LogDir;
use crate::settings::Settings;
use crate::ui_state::UiState;

/// The label of the main window (tauri.conf.json, `create: false`).
pub const MAIN: &str = "main";

/// How long the window waits for the stores before it opens with the
/// "starting" view.
pub const MAX_WAIT: Duration = Duration::from_millis(150);

/// The `sessionStorage` key the page sets once it has taken the first view.
pub const TAKEN_FLAG: &str = "kakaoDesk.firstUiTaken";

/// Whether the main window was built (or its building began).
#[derive(Debug, Default)]
pub struct Opened(AtomicBool);

/// Builds the main window with the UI of now for the page's first draw,
/// unless it was built already. A window that cannot be built ends the app:
/// there is nothing to show.
pub fn open_main(handle: &LoginHandle) {
    let app = handle.app();
    if app.state::<Opened>().0.swap(true, Ordering::SeqCst) {
        return;
    }
    let Some(config) = app.config().app.windows.iter().find(|w| w.label == MAIN) else {
        tracing::error!("tauri.conf.json has no main window");
        app.exit(1);
        return;
    };
    let ui = UiState {
        session: Some(handle.numbered_view()),
        ..UiState::new(app.state::<Settings>().language(), &app.state::<LogDir>())
    };
    let script = first_ui_script(&ui);
    let built = WebviewWindowBuilder::from_config(app, config)
        .map(|builder| builder.initialization_script(&script))
        .and_then(WebviewWindowBuilder::build);
    if let Err(error) = built {
        tracing::error!(%error, "the main window could not be created");
        app.exit(1);
    }
}

/// Opens the main window after [`MAX_WAIT`] if start-up has not by then
/// (with the view of then: "starting", or a failure).
pub fn open_main_after_wait(handle: LoginHandle) {
    std::thread::spawn(move || {
        std::thread::sleep(MAX_WAIT);
        open_main(&handle);
    });
}

/// The origins the app's own page is served from: Tauri's custom protocol
/// (Linux, macOS) and its `localhost` mapping (Windows).
pub const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The initialization script: sets `window.__KAKAO_DESK_FIRST_UI__` on the
/// page's first load in this window, on the app's own origin only.
pub fn first_ui_script(ui: &UiState) -> String {
    // JSON is a JavaScript expression; serialising cannot fail for this type,
    // and if it did the page would simply wait for `ui_ready`.
    let json = serde_json::to_string(ui).unwrap_or_else(|_| "null".to_owned());
    let origins = serde_json::to_string(&APP_ORIGINS).unwrap_or_else(|_| "[]".to_owned());
    format!(
        "(function () {{ if ({origins}.indexOf(window.location.origin) < 0) return; \
         try {{ if (window.sessionStorage.getItem({flag:?})) return; }} \
         catch (e) {{ return; }} window.__KAKAO_DESK_FIRST_UI__ = {json}; }})();",
        flag = TAKEN_FLAG,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::{SessionState, SessionView};
    use kakao_desk_core::Language;

    #[test]
    fn the_script_carries_the_view_once_per_window_and_no_more() {
        let mut ui = UiState::new(Language::En, &LogDir(None));
        let mut view = SessionView::bare(SessionState::SignedIn);
        view.seq = 7;
        ui.session = Some(view);
        let script = first_ui_script(&ui);
        assert!(script.contains(r#"sessionStorage.getItem("kakaoDesk.firstUiTaken")"#));
        assert!(
            script.contains(
                r#"["tauri://localhost","http://tauri.localhost","https://tauri.localhost"].indexOf(window.location.origin) < 0) return;"#
            ),
            "only the app's own page gets the view"
        );
        let start = script
            .find("__KAKAO_DESK_FIRST_UI__ = ")
            .expect("assignment")
            + 26;
        let end = script.rfind("; })();").expect("end");
        let value: serde_json::Value =
            serde_json::from_str(&script[start..end]).expect("the value is JSON");
        assert_eq!(value["session"]["seq"], 7);
        assert_eq!(value["session"]["state"], "signed_in");
        assert_eq!(value["language"], "en");
    }
}

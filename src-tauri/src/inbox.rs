//! The single intake of links handed to the app, and the queue of UI events.
//!
//! Links arrive three ways: as the only command-line argument of a cold start
//! (Linux, Windows), as the arguments a second instance forwards through
//! tauri-plugin-single-instance, and as open-URL events (macOS). All three call
//! [`Inbox::receive_url`]. The shell reads the arguments itself rather than
//! relying on the deep-link plugin's `on_open_url` on Linux and Windows because
//! the plugin silently drops URLs of other schemes (the user should hear that a
//! link was refused) and broadcasts accepted ones, authorization code included,
//! as an app-wide event.
//!
//! An accepted link is returned to the caller, which hands it to the login
//! core ([`crate::desk::Desk::take_link`]); a refused one becomes an
//! `invalid_callback` event for the UI.
//!
//! Events produced before the UI has called `ui_ready` (a cold start by a link
//! fires before WebKit has loaded the page) are queued, not lost.

use std::collections::VecDeque;
use std::sync::Mutex;

use kakao_desk_core::Language;
use kakao_desk_core::callback::{self, DeepLink, RouteError};
use tauri::ipc::Channel;

use crate::ipc::{AppEvent, IpcError};

/// Events kept while no UI is connected. A flood of links beyond this drops the
/// oldest: only the latest state matters to the user.
pub const MAX_QUEUED_EVENTS: usize = 32;

/// Where events go once the UI is connected.
pub trait EventSink: Send {
    /// Delivers one event; `false` when the UI is gone.
    fn send(&self, event: AppEvent) -> bool;
}

impl EventSink for Channel<AppEvent> {
    fn send(&self, event: AppEvent) -> bool {
        Channel::send(self, event).is_ok()
    }
}

#[derive(Default)]
struct Queue {
    sink: Option<Box<dyn EventSink>>,
    waiting: VecDeque<AppEvent>,
}

/// The app's link intake (managed state).
pub struct Inbox {
    scheme: String,
    queue: Mutex<Queue>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// An inbox accepting callbacks of `scheme`.
    pub fn new(scheme: impl Into<String>) -> Self {
        Self {
            scheme: scheme.into(),
            queue: Mutex::default(),
        }
    }

    /// The scheme this inbox accepts.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Takes a process's arguments (without the program name). No argument is
    /// a plain launch; one is a link; more are refused, since a link always
    /// comes alone.
    pub fn receive_args<'a>(
        &self,
        args: impl IntoIterator<Item = &'a str>,
        language: Language,
    ) -> Option<DeepLink> {
        let args: Vec<&str> = args.into_iter().collect();
        match args.as_slice() {
            [] => None,
            [one] => self.receive_url(one, language),
            many => {
                tracing::warn!(
                    count = many.len(),
                    "refused launch arguments: a link comes alone"
                );
                self.refuse(&RouteError::Malformed, language);
                None
            }
        }
    }

    /// Takes one URL from outside and returns it when its route is the app's
    /// callback. Logs a redacted line either way.
    pub fn receive_url(&self, raw: &str, language: Language) -> Option<DeepLink> {
        match callback::check_deep_link(raw, &self.scheme) {
            Ok(link) => {
                tracing::info!(link = ?link, "login callback received");
                Some(link)
            }
            Err(reason) => {
                // The raw URL is never logged: it may carry a code.
                tracing::warn!(%reason, length = raw.len(), "link refused");
                self.refuse(&reason, language);
                None
            }
        }
    }

    /// Connects the UI: queued events go out first, in order, then live ones.
    /// A reloaded page connects again and replaces the old sink.
    pub fn connect(&self, sink: Box<dyn EventSink>) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(event) = queue.waiting.pop_front() {
            if !sink.send(event.clone()) {
                queue.waiting.push_front(event);
                return;
            }
        }
        queue.sink = Some(sink);
    }

    fn refuse(&self, reason: &RouteError, language: Language) {
        self.deliver(AppEvent::Error(IpcError::new(reason.code(), language)));
    }

    /// Sends an event to the UI, or queues it until the UI connects.
    pub fn deliver(&self, event: AppEvent) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sink) = &queue.sink {
            if sink.send(event.clone()) {
                return;
            }
            queue.sink = None;
        }
        if queue.waiting.len() == MAX_QUEUED_EVENTS {
            queue.waiting.pop_front();
        }
        queue.waiting.push_back(event);
    }
}

/// The deep-link scheme from the app's configuration (the debug build's own
/// scheme in debug builds, see `build.rs`).
///
/// # Panics
/// When `tauri.conf.json` declares no desktop scheme: a build error, caught by
/// the first test that starts the app.
pub fn configured_scheme(config: &tauri::Config) -> String {
    config
        .plugins
        .0
        .get("deep-link")
        .and_then(|c| c.pointer("/desktop/schemes/0"))
        .and_then(|s| s.as_str())
        .expect("tauri.conf.json must declare plugins.deep-link.desktop.schemes")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kakao_desk_core::ErrorCode;

    use super::*;

    #[derive(Clone, Default)]
    struct Recorder {
        seen: Arc<Mutex<Vec<AppEvent>>>,
        closed: Arc<Mutex<bool>>,
    }

    impl EventSink for Recorder {
        fn send(&self, event: AppEvent) -> bool {
            if *self.closed.lock().unwrap() {
                return false;
            }
            self.seen.lock().unwrap().push(event);
            true
        }
    }

    impl Recorder {
        fn events(&self) -> Vec<AppEvent> {
            self.seen.lock().unwrap().clone()
        }
    }

    const SCHEME: &str = "dev.kakaodesk.desktop";

    fn error(code: ErrorCode) -> AppEvent {
        AppEvent::Error(IpcError::new(code, Language::En))
    }

    fn signed_out() -> AppEvent {
        AppEvent::Session {
            session: Box::new(crate::ipc::SessionView::bare(
                crate::ipc::SessionState::SignedOut,
            )),
        }
    }

    #[test]
    fn genuine_links_are_handed_on_and_refusals_reach_the_ui() {
        let inbox = Inbox::new(SCHEME);
        let link = inbox.receive_args(
            ["dev.kakaodesk.desktop://oauth/callback?code=c&state=s"],
            Language::En,
        );
        assert_eq!(
            link.map(|l| l.parameter_names()),
            Some(vec!["code".into(), "state".into()]),
            "a genuine callback goes on to the login core"
        );
        assert!(
            inbox
                .receive_args(["https://evil.example/oauth/callback"], Language::En)
                .is_none(),
            "a foreign link goes nowhere"
        );
        let ui = Recorder::default();
        inbox.connect(Box::new(ui.clone()));
        assert_eq!(
            ui.events(),
            vec![error(ErrorCode::InvalidCallback)],
            "the refusal waited for the UI; the accepted link made no event of its own"
        );
    }

    #[test]
    fn events_before_the_ui_is_ready_are_queued_in_order() {
        let inbox = Inbox::new(SCHEME);
        inbox.deliver(signed_out());
        inbox.receive_url("not a url", Language::En);
        let ui = Recorder::default();
        inbox.connect(Box::new(ui.clone()));
        assert_eq!(
            ui.events(),
            vec![signed_out(), error(ErrorCode::InvalidCallback)],
            "queued events reach the UI once it connects, in arrival order"
        );
        inbox.receive_url("still not a url", Language::En);
        assert_eq!(
            ui.events().len(),
            3,
            "once connected, events go straight out"
        );
    }

    #[test]
    fn plain_launches_produce_nothing_and_extra_arguments_are_refused() {
        let inbox = Inbox::new(SCHEME);
        let ui = Recorder::default();
        inbox.connect(Box::new(ui.clone()));
        inbox.receive_args([], Language::En);
        assert!(
            ui.events().is_empty(),
            "a second launch without a link only focuses the window"
        );
        inbox.receive_args(
            ["dev.kakaodesk.desktop://oauth/callback?code=c", "--flag"],
            Language::En,
        );
        assert_eq!(ui.events(), vec![error(ErrorCode::InvalidCallback)]);
    }

    #[test]
    fn events_for_a_closed_ui_wait_for_the_next_one() {
        let inbox = Inbox::new(SCHEME);
        let first = Recorder::default();
        inbox.connect(Box::new(first.clone()));
        *first.closed.lock().unwrap() = true;
        inbox.receive_url("not a url", Language::En);
        let second = Recorder::default();
        inbox.connect(Box::new(second.clone()));
        assert_eq!(
            second.events(),
            vec![error(ErrorCode::InvalidCallback)],
            "a reloaded page gets what the old one missed"
        );
    }

    #[test]
    fn the_queue_is_bounded() {
        let inbox = Inbox::new(SCHEME);
        for _ in 0..MAX_QUEUED_EVENTS + 5 {
            inbox.receive_url("not a url", Language::En);
        }
        let ui = Recorder::default();
        inbox.connect(Box::new(ui.clone()));
        assert_eq!(
            ui.events().len(),
            MAX_QUEUED_EVENTS,
            "a flood of links cannot grow memory without bound"
        );
    }
}

//! The shell's handle on the login core (managed state): the core once
//! start-up has opened it, the deep-link scheme, and the few things every
//! command and event handler does with them — publish the view, report an
//! error, hand over a link, follow a login attempt. It holds no login logic;
//! that is all in `kakao_desk_core::login`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kakao_desk_core::callback::DeepLink;
use kakao_desk_core::login::{KakaoLogin, LoginAttempt, LoginError, Recheck};
use kakao_desk_core::{ErrorCode, Language};
use tauri::{AppHandle, Manager};

use crate::bench;
use crate::ipc::{AppEvent, IpcError, SessionView};
use crate::settings::Settings;
use crate::ui_channel::UiChannel;
use crate::view::{CoreState, session_view};

/// What start-up opened.
pub struct Opened {
    /// The login core.
    pub login: Arc<KakaoLogin>,
    /// Running against the bundled emulator.
    pub demo: bool,
    /// Keeps the demo emulator serving while the app runs.
    #[cfg(demo_emulator)]
    pub emulator: Option<kakao_emulator::RunningEmulator>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

/// Links kept while start-up still opens the core. Anything can launch the
/// app with links, so a flood beyond this drops the oldest: only the latest
/// can belong to a login anyway.
pub const MAX_EARLY_LINKS: usize = 32;

/// The links that arrived before the core was open, oldest first, at most
/// [`MAX_EARLY_LINKS`].
#[derive(Debug, Default)]
struct EarlyLinks(VecDeque<DeepLink>);

impl EarlyLinks {
    fn push(&mut self, link: DeepLink) {
        if self.0.len() == MAX_EARLY_LINKS {
            self.0.pop_front();
            tracing::warn!("too many links before start-up finished; dropped the oldest");
        }
        self.0.push_back(link);
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn into_vec(self) -> Vec<DeepLink> {
        self.0.into()
    }
}

/// Where the login core is.
enum Core {
    /// Start-up is still opening it; links that arrive meanwhile wait here.
    Opening(EarlyLinks),
    /// Start-up failed with this error.
    Failed(ErrorCode),
    /// Open.
    Open(Arc<Opened>),
}

/// The shell's handle on the login core (cheap to clone).
#[derive(Clone)]
pub struct LoginHandle(Arc<Inner>);

struct Inner {
    app: AppHandle,
    scheme: String,
    core: Mutex<Core>,
    /// A backoff loop re-checking an unreachable Kakao is running.
    rechecking: std::sync::atomic::AtomicBool,
    /// A re-check (focus, retry) is in flight.
    checking: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for LoginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginHandle")
            .field("scheme", &self.0.scheme)
            .finish_non_exhaustive()
    }
}

impl LoginHandle {
    /// A handle whose core is still opening; deep links of `scheme` are the
    /// app's callbacks.
    pub fn new(app: AppHandle, scheme: String) -> Self {
        Self(Arc::new(Inner {
            app,
            scheme,
            core: Mutex::new(Core::Opening(EarlyLinks::default())),
            rechecking: std::sync::atomic::AtomicBool::new(false),
            checking: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    fn core(&self) -> MutexGuard<'_, Core> {
        self.0.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The deep-link scheme this build answers to.
    pub fn scheme(&self) -> &str {
        &self.0.scheme
    }

    /// The app handle.
    pub fn app(&self) -> &AppHandle {
        &self.0.app
    }

    /// The opened login core.
    ///
    /// # Errors
    /// Start-up's failure, or `internal` while start-up still runs.
    pub fn login(&self) -> Result<Arc<KakaoLogin>, IpcError> {
        match &*self.core() {
            Core::Open(opened) => Ok(opened.login.clone()),
            Core::Failed(code) => Err(self.ipc_error(*code)),
            Core::Opening(_) => Err(self.ipc_error(ErrorCode::Internal)),
        }
    }

    /// Start-up has opened the core: returns the links that waited for it.
    pub fn opened(&self, opened: Opened) -> Vec<DeepLink> {
        match std::mem::replace(&mut *self.core(), Core::Open(Arc::new(opened))) {
            Core::Opening(early) => early.into_vec(),
            _ => Vec::new(),
        }
    }

    /// Start-up has failed with `code`.
    pub fn failed(&self, code: ErrorCode) {
        let mut core = self.core();
        if let Core::Opening(early) = &*core
            && !early.is_empty()
        {
            tracing::warn!(
                links = early.len(),
                "links dropped: the app could not start"
            );
        }
        *core = Core::Failed(code);
    }

    /// The UI language now.
    pub fn language(&self) -> Language {
        self.0.app.state::<Settings>().language()
    }

    /// `code` as the UI receives it, in the UI's language.
    pub fn ipc_error(&self, code: ErrorCode) -> IpcError {
        IpcError::new(code, self.language())
    }

    /// A login operation's failure as the UI receives it, in the UI's
    /// language, naming what its message names (the port of a loopback
    /// login).
    pub fn login_error(&self, error: &LoginError) -> IpcError {
        IpcError::of_login(error, self.language())
    }

    /// Tells the UI that something went wrong.
    pub fn report(&self, code: ErrorCode) {
        self.send_error(self.ipc_error(code));
    }

    /// Tells the UI that a login operation failed.
    pub fn report_login(&self, error: &LoginError) {
        // A check made for an account the user switched away from.
        if error.is_superseded() {
            return;
        }
        self.send_error(self.login_error(error));
    }

    fn send_error(&self, error: IpcError) {
        self.0.app.state::<UiChannel>().send(AppEvent::Error(error));
    }

    /// Sends the UI the view of the state of now.
    pub fn publish(&self) {
        self.0
            .app
            .state::<UiChannel>()
            .send_with(|| session(self.view()));
    }

    /// Connects the page's event channel and returns the view of now, for
    /// `ui_ready` to answer with.
    pub fn connect_ui(&self, sink: Box<dyn crate::ui_channel::EventSink>) -> SessionView {
        self.0
            .app
            .state::<UiChannel>()
            .connect_with(sink, || self.view())
    }

    /// The view of now, numbered among the views sent (for the window's
    /// first draw).
    pub fn numbered_view(&self) -> SessionView {
        self.0.app.state::<UiChannel>().numbered(|| self.view())
    }

    /// The view of the state of now.
    fn view(&self) -> SessionView {
        let opened = match &*self.core() {
            Core::Open(opened) => opened.clone(),
            Core::Failed(_) => return session_view(CoreState::Failed, false),
            Core::Opening(_) => return session_view(CoreState::Opening, false),
        };
        let snapshot = opened.login.snapshot();
        SessionView {
            browser_sign_out: opened.login.can_sign_out_of_browser(),
            withdraw: opened.login.can_withdraw_consent(),
            ..session_view(CoreState::Open(&snapshot), opened.demo)
        }
    }

    /// Hands a routed deep link to the core, or keeps it until start-up has
    /// opened the core. A refusal is reported; an accepted link's outcome
    /// comes from the attempt's [`LoginHandle::follow`].
    pub fn take_link(&self, link: DeepLink) {
        bench::mark("link-received");
        let login = match &mut *self.core() {
            Core::Opening(early) => {
                early.push(link);
                return;
            }
            Core::Failed(_) => return,
            Core::Open(opened) => opened.login.clone(),
        };
        if let Err(error) = login.complete_login(&link) {
            self.report_login(&error);
        }
    }

    /// Follows a started attempt in the background: its first paint and its
    /// outcome reach the UI; an attempt the app withdrew says nothing.
    pub fn follow(&self, login: Arc<KakaoLogin>, attempt: LoginAttempt) {
        let handle = self.clone();
        let language = self.language();
        tauri::async_runtime::spawn(async move {
            let painted = handle.clone();
            let result = login
                .await_callback(attempt, language, move || painted.publish())
                .await;
            match result {
                Ok(_) => bench::mark("session-stored"),
                Err(error) if error.is_withdrawn() => return,
                // The card says it; there is nothing to fix.
                Err(error) if error.is_consent_declined() => {}
                Err(error) => handle.report_login(&error),
            }
            handle.publish();
        });
    }

    /// Asks Kakao about the session again — the offline badge's retry, a
    /// focus of the window while offline, the backoff — and, once Kakao
    /// answers, reads a stale profile ([`PROFILE_MAX_AGE`]). The badge clears
    /// when Kakao answers; while it does not, the backoff keeps asking.
    /// Nothing to ask in demo mode (the emulator starts fresh every run).
    pub async fn recheck(&self) {
        use std::sync::atomic::Ordering;
        let Ok(login) = self.login() else {
            return;
        };
        if self.is_demo() || !login.is_signed_in() {
            return;
        }
        // Focus events come in bursts (alt-tab): one check at a time. A
        // switch of account during a check is checked too: its own recheck
        // found this one running, so this one goes on until the account it
        // checked is the one in use (also after letting go of the flag).
        loop {
            if self.0.checking.swap(true, Ordering::AcqRel) {
                return;
            }
            let mut checked;
            loop {
                checked = login.account_in_use();
                self.recheck_now(&login).await;
                if login.account_in_use() == checked {
                    break;
                }
            }
            self.0.checking.store(false, Ordering::Release);
            if login.account_in_use() == checked {
                return;
            }
        }
    }

    async fn recheck_now(&self, login: &KakaoLogin) {
        let outcome = login.recheck_once(PROFILE_MAX_AGE).await;
        self.settle(outcome);
    }

    /// Shows how a check with Kakao went: its error, the redrawn window,
    /// and the backoff while Kakao cannot be reached.
    pub fn settle(&self, outcome: Recheck) {
        match outcome {
            Recheck::Reachable(Some(error)) | Recheck::Ended(Some(error)) => {
                self.report_login(&error);
            }
            Recheck::Reachable(None) | Recheck::Ended(None) | Recheck::GaveUp => {}
            Recheck::Unreachable => self.keep_rechecking(),
        }
        self.publish();
    }

    /// Re-checks an unreachable Kakao with backoff until it answers or the
    /// user signs out ([`KakaoLogin::recheck_while_offline`]); one loop at a
    /// time.
    pub fn keep_rechecking(&self) {
        use std::sync::atomic::Ordering;
        let Ok(login) = self.login() else {
            return;
        };
        if self.0.rechecking.swap(true, Ordering::AcqRel) {
            return;
        }
        let handle = self.clone();
        tauri::async_runtime::spawn(async move {
            let outcome = login.recheck_while_offline(PROFILE_MAX_AGE).await;
            if matches!(outcome, Recheck::GaveUp) {
                tracing::info!("Kakao stayed unreachable; asking again on focus");
            }
            handle.0.rechecking.store(false, Ordering::Release);
            handle.settle(outcome);
        });
    }

    /// True while the offline badge shows (Kakao could not be reached).
    pub fn is_offline(&self) -> bool {
        self.login().is_ok_and(|login| login.is_offline())
    }

    /// True when the app runs against the bundled emulator.
    pub fn is_demo(&self) -> bool {
        matches!(&*self.core(), Core::Open(opened) if opened.demo)
    }
}

/// A signed-in profile older than this is read again at start-up (once) or
/// when Kakao is reachable again.
pub const PROFILE_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn session(view: crate::ipc::SessionView) -> AppEvent {
    AppEvent::Session {
        session: Box::new(view),
    }
}

#[cfg(test)]
mod tests {
    use kakao_desk_core::callback::check_deep_link;

    use super::*;

    #[test]
    fn links_before_start_up_are_kept_in_order_and_bounded() {
        let link = |n: usize| {
            check_deep_link(
                &format!("dev.kakaodesk.desktop://oauth/callback?code=c{n}&state=s"),
                "dev.kakaodesk.desktop",
            )
            .expect("routes")
        };
        let mut early = EarlyLinks::default();
        for n in 0..MAX_EARLY_LINKS + 10 {
            early.push(link(n));
        }
        let kept = early.into_vec();
        assert_eq!(
            kept.len(),
            MAX_EARLY_LINKS,
            "a flood of launches cannot grow memory without bound"
        );
        assert_eq!(kept.first(), Some(&link(10)), "the oldest are dropped");
        assert_eq!(
            kept.last(),
            Some(&link(MAX_EARLY_LINKS + 9)),
            "the newest, which may belong to a login, is kept"
        );
    }

    #[test]
    fn a_url_handed_over_before_start_up_and_the_ui_reaches_the_core_once() {
        // macOS cold start: the plugin's kept URL (get_current) and, racing
        // it, the same URL's event, both before the core has opened.
        let url = "dev.kakaodesk.desktop://oauth/callback?code=cold&state=s";
        let intake = crate::links::OpenUrls::default();
        let mut early = EarlyLinks::default();
        for _source in ["get_current", "open-url event"] {
            for routed in intake.take([url], "dev.kakaodesk.desktop") {
                early.push(routed.expect("a callback of this scheme"));
            }
        }
        assert_eq!(
            early.into_vec(),
            vec![check_deep_link(url, "dev.kakaodesk.desktop").expect("routes")],
            "start-up hands the core the link exactly once"
        );
    }
}

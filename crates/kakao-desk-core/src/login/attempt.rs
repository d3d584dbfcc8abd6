//! The login attempt: one browser round trip, from the authorize URL to the
//! callback, in either redirect mode.
//!
//! There is at most one attempt at a time; a new one replaces the old. Each
//! has an id (bumped by every begin and cancel), a deadline by the injected
//! clock, the authorize URL (so the browser can be opened again), and its
//! pending login (PKCE verifier, `state`, `nonce`). A callback reaches the
//! attempt from a deep link ([`Attempts::deliver`]) or from the loopback
//! receiver ([`Attempts::wait`] serves it); either way the one pure
//! [`intake`] decides, under the attempt's lock, whether it is the attempt's
//! own. [`Attempts::wait`] ends with the attempt's callback, at the deadline,
//! or when the app withdraws the attempt (cancel, or a newer attempt).
//!
//! While its callback is being completed (token exchange, profile) the
//! attempt stays current, so the UI keeps the waiting screen and can show the
//! id_token's nickname ([`FirstPaint`]) until the login is done.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::{oneshot, watch};

use super::error::LoginError;
use crate::authorize::{AuthorizeRequest, PendingLogin};
use crate::callback::{Callback, CallbackError, CallbackSource, DeepLink, intake};
use crate::clock::Clock;
use crate::config::RedirectMode;
use crate::loopback::{LoopbackError, LoopbackListener, Outcome, Page};
use crate::profile::KakaoId;
use crate::secret::SecretUrl;
use crate::{ErrorCode, Language};

/// A started login attempt, handed to [`super::KakaoLogin::await_callback`]
/// (once: it is not `Clone`). Holds no secret.
#[derive(Debug, PartialEq, Eq)]
pub struct LoginAttempt {
    id: u64,
    mode: RedirectMode,
    deadline: SystemTime,
}

impl LoginAttempt {
    /// How its callback arrives.
    pub fn mode(&self) -> RedirectMode {
        self.mode
    }

    /// When it gives up waiting.
    pub fn deadline(&self) -> SystemTime {
        self.deadline
    }

    pub(super) fn id(&self) -> u64 {
        self.id
    }
}

/// What the UI shows of the attempt in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptView {
    /// How its callback arrives.
    pub mode: RedirectMode,
    /// When it gives up (for the countdown).
    pub deadline: SystemTime,
    /// Known from the verified id_token while the profile still loads.
    pub first_paint: Option<FirstPaint>,
}

/// What the verified id_token says before `/v2/user/me` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstPaint {
    /// The user the id_token names.
    pub kakao_id: KakaoId,
    /// The nickname claim, when the nickname is consented to.
    pub nickname: Option<String>,
}

/// What a deep link brought a bridge-mode attempt: its callback, or the
/// refusal that ended it (expired, cancelled on Kakao's page, …).
type Arrival = Result<Callback, CallbackError>;

/// The current attempt.
struct Current {
    id: u64,
    mode: RedirectMode,
    deadline: SystemTime,
    url: SecretUrl,
    /// Taken by the callback that belongs to it, or by the deadline.
    pending: Option<PendingLogin>,
    /// Bridge mode: where [`Attempts::deliver`] hands the callback over.
    handoff: Option<oneshot::Sender<Arrival>>,
    /// Bridge mode: taken by the one wait of this attempt.
    arrivals: Option<oneshot::Receiver<Arrival>>,
    first_paint: Option<FirstPaint>,
}

/// The one login attempt and the loopback receiver it may use.
pub(super) struct Attempts {
    current: Mutex<Option<Current>>,
    /// The newest attempt's id; bumped by every begin and cancel, so a wait
    /// that sees it move stops.
    ids: watch::Sender<u64>,
    /// Bound at begin in loopback mode (a taken port is reported before the
    /// browser opens); closed once no attempt is pending.
    loopback: tokio::sync::Mutex<Option<LoopbackListener>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn log_refusal(error: &CallbackError) {
    let code: ErrorCode = error.code();
    tracing::warn!(%error, %code, "callback refused");
}

impl Attempts {
    pub(super) fn new() -> Self {
        Self {
            current: Mutex::new(None),
            ids: watch::Sender::new(0),
            loopback: tokio::sync::Mutex::new(None),
        }
    }

    /// Makes `request` the current attempt, replacing any other, and in
    /// loopback mode makes sure the receiver listens.
    ///
    /// # Errors
    /// [`LoopbackError`] when the registered loopback port cannot be bound;
    /// the attempt is then withdrawn again.
    pub(super) async fn begin(
        &self,
        request: AuthorizeRequest,
    ) -> Result<LoginAttempt, LoopbackError> {
        let AuthorizeRequest { pending, url } = request;
        let mode = pending.redirect_mode();
        let deadline = pending.deadline();
        let redirect_uri = pending.redirect_uri().clone();
        let (handoff, arrivals) = match mode {
            RedirectMode::Bridge => {
                let (tx, rx) = oneshot::channel();
                (Some(tx), Some(rx))
            }
            RedirectMode::Loopback => (None, None),
        };
        let id = {
            let mut current = lock(&self.current);
            let mut id = 0;
            // Bumping under the attempt's lock keeps ids and attempts in step.
            self.ids.send_modify(|newest| {
                *newest += 1;
                id = *newest;
            });
            let replaced = current.replace(Current {
                id,
                mode,
                deadline,
                url,
                pending: Some(pending),
                handoff,
                arrivals,
                first_paint: None,
            });
            if replaced.is_some() {
                tracing::info!("a new login replaces the one in progress");
            }
            id
        };
        if mode == RedirectMode::Loopback {
            // A replaced attempt's wait sees the id move and hands the
            // listener back; it stays bound for this attempt.
            let mut listener = self.loopback.lock().await;
            if listener.is_none() {
                match LoopbackListener::bind(&redirect_uri).await {
                    Ok(bound) => *listener = Some(bound),
                    Err(error) => {
                        drop(listener);
                        self.withdraw(id);
                        return Err(error);
                    }
                }
            }
        }
        tracing::info!(?mode, "login started");
        Ok(LoginAttempt { id, mode, deadline })
    }

    /// Withdraws the current attempt, if any, and stops the loopback receiver.
    pub(super) fn cancel(&self) {
        let mut current = lock(&self.current);
        if current.take().is_some_and(|c| c.pending.is_some()) {
            tracing::info!("login cancelled in the app");
        }
        self.ids.send_modify(|newest| *newest += 1);
        drop(current);
        // With no wait in progress, close the port here; a wait in progress
        // holds the listener and closes it when it sees the id move.
        if let Ok(mut listener) = self.loopback.try_lock() {
            *listener = None;
        }
    }

    /// Withdraws attempt `id` if it is still the current one.
    pub(super) fn withdraw(&self, id: u64) {
        if lock(&self.current).as_ref().is_some_and(|c| c.id == id) {
            self.cancel();
        }
    }

    /// Forgets attempt `id` once its wait and completion are over.
    pub(super) fn finish(&self, id: u64) {
        let mut current = lock(&self.current);
        if current.as_ref().is_some_and(|c| c.id == id) {
            *current = None;
        }
    }

    /// True while an attempt waits for its callback.
    pub(super) fn is_pending(&self) -> bool {
        lock(&self.current)
            .as_ref()
            .is_some_and(|c| c.pending.is_some())
    }

    /// The attempt in progress, as the UI shows it.
    pub(super) fn view(&self) -> Option<AttemptView> {
        lock(&self.current).as_ref().map(|c| AttemptView {
            mode: c.mode,
            deadline: c.deadline,
            first_paint: c.first_paint.clone(),
        })
    }

    /// The authorize URL of the attempt still waiting for the browser.
    pub(super) fn authorize_url(&self) -> Option<SecretUrl> {
        lock(&self.current)
            .as_ref()
            .filter(|c| c.pending.is_some())
            .map(|c| c.url.clone())
    }

    /// Records the id_token's first paint for attempt `id`; false when the
    /// attempt is no longer current (then there is nothing to show).
    pub(super) fn set_first_paint(&self, id: u64, paint: FirstPaint) -> bool {
        match lock(&self.current).as_mut() {
            Some(current) if current.id == id => {
                current.first_paint = Some(paint);
                true
            }
            _ => false,
        }
    }

    /// Takes a deep link in. `Ok` means the current attempt took it and its
    /// wait reports the outcome (the login, or the refusal that ended it).
    ///
    /// # Errors
    /// The refusals that leave any attempt as it was: no attempt pending, a
    /// wrong channel, a wrong or missing `state`, a repeated parameter.
    pub(super) fn deliver(&self, link: &DeepLink, now: SystemTime) -> Result<(), CallbackError> {
        let mut current = lock(&self.current);
        let mut nothing = None;
        let slot = current.as_mut().map_or(&mut nothing, |c| &mut c.pending);
        let arrival = match intake(CallbackSource::DeepLink(link), slot, now) {
            Ok(callback) => Ok(callback),
            Err(error) if error.ends_login() => Err(error),
            Err(error) => {
                log_refusal(&error);
                return Err(error);
            }
        };
        if let Err(error) = &arrival {
            log_refusal(error);
        }
        let handoff = current.as_mut().and_then(|c| c.handoff.take());
        let handed = handoff.is_some_and(|tx| tx.send(arrival).is_ok());
        if !handed {
            // Nobody will ever wait for this attempt: its callback is void.
            tracing::warn!("a callback arrived for an attempt nobody waits for");
            return Err(CallbackError::NotPending);
        }
        Ok(())
    }

    /// Waits for the callback of `attempt`: in bridge mode the one
    /// [`Attempts::deliver`] hands over, in loopback mode the browser's
    /// request to the receiver (answered with a page in `language`). Ends at
    /// the deadline by `clock`, or when the app withdraws the attempt.
    ///
    /// # Errors
    /// [`LoginError::Withdrawn`], [`LoginError::TimedOut`], or the refusal
    /// that ended the attempt (cancelled on Kakao's page, expired, …).
    pub(super) async fn wait(
        &self,
        attempt: &LoginAttempt,
        clock: &dyn Clock,
        language: Language,
    ) -> Result<Callback, LoginError> {
        let mut ids = self.ids.subscribe();
        if *ids.borrow_and_update() != attempt.id {
            return Err(LoginError::Withdrawn);
        }
        match attempt.mode {
            RedirectMode::Bridge => self.wait_for_link(attempt, &mut ids, clock).await,
            RedirectMode::Loopback => {
                let result = self
                    .serve_loopback(attempt, &mut ids, clock, language)
                    .await;
                result.inspect_err(|e| tracing::info!(code = %e.code(), "loopback login ended"))
            }
        }
    }

    async fn wait_for_link(
        &self,
        attempt: &LoginAttempt,
        ids: &mut watch::Receiver<u64>,
        clock: &dyn Clock,
    ) -> Result<Callback, LoginError> {
        let arrivals = match lock(&self.current).as_mut() {
            Some(current) if current.id == attempt.id => current.arrivals.take(),
            _ => None,
        };
        let Some(mut arrivals) = arrivals else {
            return Err(LoginError::Withdrawn);
        };
        let mut expiry = Some(until(attempt.deadline, clock));
        loop {
            tokio::select! {
                arrival = &mut arrivals => return match arrival {
                    Ok(Ok(callback)) => Ok(callback),
                    Ok(Err(refusal)) => Err(refusal.into()),
                    // The attempt was replaced or cancelled and dropped.
                    Err(_) => Err(LoginError::Withdrawn),
                },
                _ = ids.changed() => return Err(LoginError::Withdrawn),
                () = sleep(expiry), if expiry.is_some() => {
                    match self.expire(attempt, clock.now()) {
                        Expiry::Expired => return Err(LoginError::TimedOut),
                        Expiry::Gone => return Err(LoginError::Withdrawn),
                        // A callback took the pending login just now: its
                        // arrival is on the way.
                        Expiry::Taken => expiry = None,
                        Expiry::NotYet => expiry = Some(until(attempt.deadline, clock)),
                    }
                }
            }
        }
    }

    async fn serve_loopback(
        &self,
        attempt: &LoginAttempt,
        ids: &mut watch::Receiver<u64>,
        clock: &dyn Clock,
        language: Language,
    ) -> Result<Callback, LoginError> {
        let mut listener = self.loopback.lock().await;
        let outcome = match listener.as_ref() {
            // Cancelled (or replaced and finished) before this wait began.
            None => Err(LoginError::Withdrawn),
            Some(receiver) => {
                let serve = receiver.serve(language, |url| {
                    let mut current = lock(&self.current);
                    let mut nothing = None;
                    let slot = match current.as_mut() {
                        Some(c) if c.id == attempt.id => &mut c.pending,
                        _ => &mut nothing,
                    };
                    match intake(CallbackSource::Loopback { url }, slot, clock.now()) {
                        Ok(callback) => Outcome::Done(Ok(callback), Page::Success),
                        Err(error) if error.ends_login() => {
                            let code = error.code();
                            Outcome::Done(Err(error.into()), Page::Failure(code))
                        }
                        Err(error) => {
                            log_refusal(&error);
                            Outcome::Continue(Page::Failure(error.code()))
                        }
                    }
                });
                tokio::pin!(serve);
                let mut expiry = Some(until(attempt.deadline, clock));
                loop {
                    tokio::select! {
                        result = &mut serve => break result,
                        _ = ids.changed() => break Err(LoginError::Withdrawn),
                        () = sleep(expiry), if expiry.is_some() => {
                            match self.expire(attempt, clock.now()) {
                                Expiry::Expired => break Err(LoginError::TimedOut),
                                Expiry::Gone => break Err(LoginError::Withdrawn),
                                // The receiver is answering the callback
                                // that took the pending login.
                                Expiry::Taken => expiry = None,
                                Expiry::NotYet => expiry = Some(until(attempt.deadline, clock)),
                            }
                        }
                    }
                }
            }
        };
        if !self.is_pending() {
            // One-shot: nobody waits any more, so stop listening.
            *listener = None;
        }
        outcome
    }

    /// At the deadline by the injected clock: drops the attempt if its login
    /// is still pending.
    fn expire(&self, attempt: &LoginAttempt, now: SystemTime) -> Expiry {
        let mut current = lock(&self.current);
        match current.as_ref() {
            Some(c) if c.id == attempt.id && c.pending.is_none() => Expiry::Taken,
            Some(c) if c.id == attempt.id && now < c.deadline => Expiry::NotYet,
            Some(c) if c.id == attempt.id => {
                *current = None;
                tracing::info!("the login attempt reached its deadline");
                Expiry::Expired
            }
            _ => Expiry::Gone,
        }
    }
}

/// What the deadline found.
enum Expiry {
    /// The attempt is over.
    Expired,
    /// A callback has taken the pending login: its outcome decides.
    Taken,
    /// The injected clock says the deadline is still ahead.
    NotYet,
    /// The attempt was withdrawn meanwhile.
    Gone,
}

/// How long until `deadline` by `clock` (zero when it has passed).
fn until(deadline: SystemTime, clock: &dyn Clock) -> Duration {
    deadline
        .duration_since(clock.now())
        .unwrap_or(Duration::ZERO)
}

async fn sleep(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::authorize::{LOGIN_DEADLINE, LoginOptions, begin};
    use crate::callback::check_deep_link;
    use crate::clock::ManualClock;
    use crate::config::Config;

    const SCHEME: &str = "dev.kakaodesk.desktop";

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_763_900_000)
    }

    fn bridge_config() -> Config {
        let base = url::Url::parse("http://127.0.0.1:9").expect("valid");
        let bridge = url::Url::parse("https://example.com/kakao/callback").expect("valid");
        let mut config = Config::demo(&base, "client", &bridge, None, vec![]).expect("valid");
        config.redirect_mode = RedirectMode::Bridge;
        config
    }

    /// Begins an attempt and returns it with the deep link its genuine
    /// callback would be.
    async fn started(attempts: &Attempts, clock: &ManualClock) -> (LoginAttempt, DeepLink) {
        let request =
            begin(&bridge_config(), &LoginOptions::default(), clock.now()).expect("begin");
        let state = request
            .url
            .secret()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("state");
        let attempt = attempts.begin(request).await.expect("bridge needs no port");
        let link = check_deep_link(
            &format!("{SCHEME}://oauth/callback?code=c0de&state={state}"),
            SCHEME,
        )
        .expect("routes");
        (attempt, link)
    }

    #[tokio::test]
    async fn a_genuine_link_reaches_the_wait_and_a_forged_one_does_not() {
        let clock = ManualClock::new(t0());
        let attempts = Attempts::new();
        let (attempt, link) = started(&attempts, &clock).await;
        let forged = check_deep_link(
            &format!("{SCHEME}://oauth/callback?code=x&state=forged"),
            SCHEME,
        )
        .expect("routes");
        assert_eq!(
            attempts.deliver(&forged, clock.now()),
            Err(CallbackError::StateMismatch),
            "a forged state is refused to the caller"
        );
        assert!(attempts.is_pending(), "and leaves the attempt waiting");
        attempts
            .deliver(&link, clock.now())
            .expect("the genuine link is taken");
        assert_eq!(
            attempts.deliver(&link, clock.now()),
            Err(CallbackError::NotPending),
            "a replay finds nothing"
        );
        assert!(
            attempts.view().is_some(),
            "the attempt stays current while its callback is completed"
        );
        let callback = attempts
            .wait(&attempt, &clock, Language::En)
            .await
            .expect("the wait receives the callback");
        assert_eq!(callback.code.secret(), "c0de", "the code as received");
        attempts.finish(attempt.id());
        assert!(attempts.view().is_none(), "finished attempts are forgotten");
    }

    #[tokio::test]
    async fn the_deadline_is_the_injected_clock_s() {
        let clock = ManualClock::new(t0());
        let attempts = Attempts::new();
        let (attempt, _) = started(&attempts, &clock).await;
        assert_eq!(
            attempt.deadline(),
            t0() + LOGIN_DEADLINE,
            "ten minutes from now"
        );
        clock.advance(LOGIN_DEADLINE);
        let result = attempts.wait(&attempt, &clock, Language::En).await;
        assert!(
            matches!(result, Err(LoginError::TimedOut)),
            "at the deadline the wait ends: {result:?}"
        );
        assert!(attempts.view().is_none(), "and the attempt is gone");
    }

    #[tokio::test]
    async fn a_newer_attempt_or_a_cancel_withdraws_the_old_one() {
        let clock = ManualClock::new(t0());
        let attempts = Attempts::new();
        let (old, old_link) = started(&attempts, &clock).await;
        let (new, _) = started(&attempts, &clock).await;
        assert_eq!(
            attempts.deliver(&old_link, clock.now()),
            Err(CallbackError::StateMismatch),
            "the old attempt's link is not the new one's"
        );
        let result = attempts.wait(&old, &clock, Language::En).await;
        assert!(
            matches!(result, Err(LoginError::Withdrawn)),
            "a replaced attempt ends quietly: {result:?}"
        );
        attempts.cancel();
        let result = attempts.wait(&new, &clock, Language::En).await;
        assert!(
            matches!(result, Err(LoginError::Withdrawn)),
            "a cancelled attempt ends quietly: {result:?}"
        );
        assert!(attempts.authorize_url().is_none(), "nothing to reopen");
    }

    #[tokio::test]
    async fn first_paint_is_kept_for_the_current_attempt_only() {
        let clock = ManualClock::new(t0());
        let attempts = Attempts::new();
        let (attempt, _) = started(&attempts, &clock).await;
        let paint = FirstPaint {
            kakao_id: KakaoId::new(7),
            nickname: Some("라이언".into()),
        };
        assert!(!attempts.set_first_paint(attempt.id() + 1, paint.clone()));
        assert!(attempts.set_first_paint(attempt.id(), paint.clone()));
        assert_eq!(
            attempts.view().and_then(|v| v.first_paint),
            Some(paint),
            "the waiting screen can show the nickname"
        );
    }
}

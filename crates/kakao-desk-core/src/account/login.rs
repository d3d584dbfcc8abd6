//! The login half of [`Account`]: begin, callback, exchange, verify, profile,
//! cache, vault.

use std::time::{Duration, SystemTime};

use super::{Account, AccountError, Live, lock};
use crate::cache::{MAX_THUMBNAIL_BYTES, Thumbnail};
use crate::callback::{Callback, CallbackError, CallbackSource, intake};
use crate::config::RedirectMode;
use crate::login::{LoginOptions, begin};
use crate::loopback::{LoopbackListener, Outcome, Page};
use crate::profile::{KakaoId, KakaoProfile, PublicProfile};
use crate::session::{SessionRecord, mint};
use crate::{ErrorCode, Language};

/// A login waiting for the browser.
pub struct LoginStarted {
    /// Open this in the system browser.
    ///
    /// # Security
    /// Carries `state` and `nonce`: do not log it.
    pub authorize_url: url::Url,
    /// When the login gives up (show the time left).
    pub deadline: SystemTime,
    /// How the callback will arrive: with [`RedirectMode::Loopback`], call
    /// [`Account::receive_loopback_login`] next.
    pub redirect_mode: RedirectMode,
}

impl std::fmt::Debug for LoginStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginStarted")
            .field(
                "authorize_url",
                &crate::callback::redact(&self.authorize_url),
            )
            .field("deadline", &self.deadline)
            .field("redirect_mode", &self.redirect_mode)
            .finish()
    }
}

impl Account {
    /// Starts a login: a new PKCE verifier, `state`, `nonce` and deadline
    /// (replacing any login still pending), and the authorize URL. In loopback
    /// mode it also makes sure the loopback receiver listens, so a taken port
    /// is reported before the browser opens.
    ///
    /// # Errors
    /// `internal` when the OS RNG fails or the registered loopback port is
    /// taken.
    pub async fn begin_login(&self, options: &LoginOptions) -> Result<LoginStarted, AccountError> {
        let start = begin(&self.config, options, self.clock.now())?;
        let started = LoginStarted {
            authorize_url: start.authorize_url,
            deadline: start.pending.deadline(),
            redirect_mode: start.pending.redirect_mode(),
        };
        if lock(&self.pending).replace(start.pending).is_some() {
            tracing::info!("a new login replaces the pending one");
        }
        // Stops a loopback wait of the replaced login (it leaves the listener
        // bound for this one).
        self.login_epoch.send_modify(|epoch| *epoch += 1);
        if started.redirect_mode == RedirectMode::Loopback {
            let mut listener = self.loopback.lock().await;
            if listener.is_none() {
                *listener = Some(LoopbackListener::bind(&self.config.redirect_uri).await?);
            }
        }
        tracing::info!(mode = ?started.redirect_mode, "login started");
        Ok(started)
    }

    /// Cancels the pending login, if any, and stops the loopback receiver.
    pub fn cancel_login(&self) {
        if lock(&self.pending).take().is_some() {
            tracing::info!("login cancelled in the app");
        }
        self.login_epoch.send_modify(|epoch| *epoch += 1);
        // With no wait in progress, close the port here; a wait in progress
        // holds the slot and closes it when it sees the epoch move.
        if let Ok(mut listener) = self.loopback.try_lock() {
            *listener = None;
        }
    }

    /// True while a login waits for its callback.
    pub fn login_pending(&self) -> bool {
        lock(&self.pending).is_some()
    }

    /// Completes a login from a deep link
    /// (`<scheme>://oauth/callback?code&state`).
    ///
    /// Order: callback intake (the pending login is taken exactly once) →
    /// token exchange with the PKCE verifier → id_token verification →
    /// `first_paint` (nickname and picture from the id_token, if any) →
    /// `/v2/user/me` → cache upsert → thumbnail → vault.
    ///
    /// # Errors
    /// The callback's error (`state_mismatch`, `login_timeout`,
    /// `login_cancelled`, `invalid_callback`, …) with no request sent, or the
    /// exchange's (`kakao_config`, `session_expired`, `network`, …).
    pub async fn complete_login(
        &self,
        url: &str,
        first_paint: impl FnOnce(PublicProfile) + Send,
    ) -> Result<PublicProfile, AccountError> {
        let source = CallbackSource::DeepLink {
            url,
            scheme: &self.deep_link_scheme,
        };
        let callback =
            intake(source, &mut lock(&self.pending), self.clock.now()).inspect_err(log_refusal)?;
        self.finish_login(callback, first_paint).await
    }

    /// In loopback mode, waits for the browser's redirect on the loopback
    /// receiver, answers it with a localized page, then completes the login as
    /// [`Account::complete_login`] does. Stops at the deadline, on
    /// [`Account::cancel_login`], or when a newer login replaces this one; the
    /// listener closes once no login is pending.
    ///
    /// # Errors
    /// `login_cancelled` (cancelled or replaced), `login_timeout`, the
    /// callback's error, or the completion's.
    pub async fn receive_loopback_login(
        &self,
        language: Language,
        first_paint: impl FnOnce(PublicProfile) + Send,
    ) -> Result<PublicProfile, AccountError> {
        let mut epoch = self.login_epoch.subscribe();
        epoch.borrow_and_update();
        let deadline = lock(&self.pending).as_ref().map(|p| p.deadline());
        let wait = deadline.map(|d| d.duration_since(self.clock.now()).unwrap_or(Duration::ZERO));
        let mut slot = self.loopback.lock().await;
        let outcome = match (slot.as_ref(), wait) {
            // Cancelled (or replaced and finished) before this wait began.
            (None, _) | (_, None) => Err(AccountError::Cancelled),
            (Some(listener), Some(wait)) => {
                let serve = listener.serve(language, |url| {
                    let result = intake(
                        CallbackSource::Loopback { url },
                        &mut lock(&self.pending),
                        self.clock.now(),
                    );
                    match result {
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
                tokio::select! {
                    result = serve => result,
                    _ = epoch.changed() => Err(AccountError::Cancelled),
                    () = tokio::time::sleep(wait) => {
                        lock(&self.pending).take();
                        Err(AccountError::TimedOut)
                    }
                }
            }
        };
        if !self.login_pending() {
            // One-shot: nobody waits any more, so stop listening.
            *slot = None;
        }
        drop(slot);
        let callback =
            outcome.inspect_err(|e| tracing::info!(code = %e.code(), "loopback login ended"))?;
        self.finish_login(callback, first_paint).await
    }

    async fn finish_login(
        &self,
        callback: Callback,
        first_paint: impl FnOnce(PublicProfile) + Send,
    ) -> Result<PublicProfile, AccountError> {
        let Callback { code, pending } = callback;
        let tokens = self
            .kakao
            .exchange_code(&code, pending.verifier(), pending.redirect_uri())
            .await
            .inspect_err(
                |e| tracing::warn!(kakao_code = %e.kakao_code(), "token exchange failed"),
            )?;
        drop(code);
        let now = self.clock.now();
        let mut claimed_id = None;
        if let Some(id_token) = &tokens.id_token {
            let claims = self
                .oidc
                .verify(
                    &self.kakao,
                    id_token,
                    &self.config.client_id,
                    pending.nonce(),
                    now,
                )
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "id_token refused"))?;
            let id: KakaoId = claims.sub.parse().map_err(|_| AccountError::UserMismatch)?;
            let mut early = KakaoProfile::new(id);
            early.nickname = claims.nickname.clone();
            early.thumbnail_url = claims
                .picture
                .as_deref()
                .and_then(|p| url::Url::parse(p).ok());
            first_paint(early.to_public());
            claimed_id = Some(id);
        }
        let me = self
            .kakao
            .retry_once("user_me", || self.kakao.user_me(&tokens.access_token))
            .await?;
        let (profile, _warnings) = KakaoProfile::from_user_me(&me);
        if claimed_id.is_some_and(|id| id != profile.id) {
            return Err(AccountError::UserMismatch);
        }
        let mut cached = lock(&self.cache).upsert_login(&profile, None, now)?;
        if let Some(thumbnail) = self.fetch_thumbnail(&profile).await {
            cached = lock(&self.cache).upsert_login(&profile, Some(&thumbnail), now)?;
        }
        let (session_jwt, _claims) = mint(
            &self.session_key,
            &self.app_id,
            profile.id,
            self.lifetime,
            now,
        )?;
        let record = SessionRecord::from_login(session_jwt, profile.id, tokens, now)
            .ok_or(AccountError::NoRefreshToken)?;
        self.vault.save(&record.to_bytes())?;
        {
            let mut session = self.session.write().await;
            let generation = session.as_ref().map_or(0, |l| l.generation + 1);
            *session = Some(Live { record, generation });
        }
        // The cached row plus what the cache does not keep (consents still
        // needed), with the thumbnail as a data URL for offline display.
        let mut shown = cached;
        shown.profile = profile;
        let public = shown.to_public();
        *lock(&self.profile) = Some(shown);
        tracing::info!("login complete");
        Ok(public)
    }

    /// The thumbnail bytes for offline display; any failure is logged and
    /// leaves the login intact.
    async fn fetch_thumbnail(&self, profile: &KakaoProfile) -> Option<Thumbnail> {
        let url = profile.thumbnail_url.as_ref()?;
        match self.kakao.image(url, MAX_THUMBNAIL_BYTES).await {
            Ok((content_type, bytes)) => Thumbnail::new(&content_type, bytes)
                .inspect_err(|error| tracing::warn!(%error, "thumbnail refused"))
                .ok(),
            Err(error) => {
                tracing::warn!(kakao_code = %error.kakao_code(), "thumbnail download failed");
                None
            }
        }
    }
}

fn log_refusal(error: &CallbackError) {
    let code: ErrorCode = error.code();
    tracing::warn!(%error, %code, "callback refused");
}

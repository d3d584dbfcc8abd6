//! Kakao Login on this device: the public API the shell calls. One
//! [`KakaoLogin`] owns the configuration, the Kakao client, the clock, the
//! browser, the profile cache, the login attempt and the live session.
//!
//! | shell action               | method                                   | network |
//! |----------------------------|------------------------------------------|---------|
//! | login button               | [`KakaoLogin::begin_login`]              | no      |
//! | then, in the background    | [`KakaoLogin::await_callback`]           | yes     |
//! | a deep link arrives        | [`KakaoLogin::complete_login`]           | no      |
//! | "open the browser again"   | [`KakaoLogin::reopen_browser`]           | no      |
//! | cancel button              | [`KakaoLogin::cancel_login`]             | no      |
//! | start-up                   | [`KakaoLogin::restore_session`]          | no      |
//! | after a restore            | [`KakaoLogin::verify_session`]           | yes     |
//! | draw the window            | [`KakaoLogin::snapshot`]                 | no      |
//! | before a Kakao call        | [`KakaoLogin::refresh_if_needed`]        | maybe   |
//! | logout / unlink            | [`KakaoLogin::logout`], [`KakaoLogin::unlink`] | yes |
//! | "use another account"      | [`KakaoLogin::begin_login`] with `prompt=select_account` | no |
//! | pick a signed-in account   | [`KakaoLogin::switch_account`]           | no      |
//! | "remove from this device"  | [`KakaoLogin::remove_account`]           | yes     |
//! | "also sign out of Kakao…"  | [`KakaoLogin::sign_out_of_browser`]      | no      |
//!
//! Several accounts: the vault keeps one session per account signed in on
//! this device, sealed together as one set; a login adds its account (the
//! one in use before stays signed in), logout ends only the one in use.
//! A login is one [`LoginAttempt`] (`login/attempt.rs`): `begin_login` opens the
//! authorize page in the system browser and returns the attempt;
//! `await_callback` waits for its callback in either redirect mode (a deep
//! link handed in by `complete_login`, or the loopback receiver), up to the
//! attempt's deadline by the injected clock, and completes the login. The
//! session after it is `login/live.rs`'s.

mod accounts;
mod attempt;
mod consent;
mod error;
mod live;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

pub use accounts::{AccountView, MAX_LISTED_SIGNED_OUT};
pub use attempt::{AttemptView, FirstPaint, LoginAttempt};
pub use consent::{ConsentNote, ConsentOffer, ConsentOutcome, offers};
pub use error::{LoginError, OpenError};

use crate::authorize::{LoginOptions, begin};
use crate::backend::BackendClient;
use crate::browser::Browser;
use crate::cache::{CachedProfile, MAX_THUMBNAIL_BYTES, ProfileCache, Thumbnail};
use crate::callback::{Callback, DeepLink};
use crate::clock::Clock;
use crate::config::Config;
use crate::kakao::{AccessTokenInfo, ClientOptions, KakaoClient};
use crate::oidc::{IdTokenVerifier, OidcError};
use crate::profile::{KakaoId, KakaoProfile, PublicProfile};
use crate::secret::AuthorizationCode;
use crate::session::{DEFAULT_SESSION_LIFETIME, DEFAULT_SESSION_MAX_AGE, SessionPolicy};
use crate::vault::{KeySource, MemoryVaultStorage, Vault, VaultStorage, random_vault_key};
use crate::{ErrorCode, Language};
use attempt::Attempts;
use live::LiveSession;

/// What the shell injects.
#[derive(Debug)]
pub struct LoginParts {
    /// The resolved configuration.
    pub config: Config,
    /// The app identifier (reverse DNS): JWT issuer, vault binding.
    pub app_id: String,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The profile cache.
    pub cache: ProfileCache,
    /// Where the vault key comes from.
    pub key_source: Box<dyn KeySource>,
    /// Where the vault keeps its slots.
    pub vault_storage: Box<dyn VaultStorage>,
    /// Opens the authorize page.
    pub browser: Box<dyn Browser>,
    /// HTTP timeouts and retry pacing.
    pub client_options: ClientOptions,
    /// A session unused this long ends (default 30 days; it slides with
    /// use, see [`SessionPolicy`]).
    pub session_lifetime: Duration,
    /// A session ends this long after its login at the latest (default one
    /// year; the publisher's `session_max_days`).
    pub session_max_age: Duration,
}

impl LoginParts {
    /// Parts with the default timeouts and session lifetime.
    pub fn new(
        config: Config,
        app_id: impl Into<String>,
        clock: Arc<dyn Clock>,
        cache: ProfileCache,
        key_source: Box<dyn KeySource>,
        vault_storage: Box<dyn VaultStorage>,
        browser: Box<dyn Browser>,
    ) -> Self {
        Self {
            config,
            app_id: app_id.into(),
            clock,
            cache,
            key_source,
            vault_storage,
            browser,
            client_options: ClientOptions::default(),
            session_lifetime: DEFAULT_SESSION_LIFETIME,
            session_max_age: DEFAULT_SESSION_MAX_AGE,
        }
    }
}

/// Where the user is, as a window draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginSnapshot {
    /// Not signed in.
    SignedOut {
        /// The account that signed in here last, for "continue as …".
        continue_as: Option<PublicProfile>,
        /// The accounts used here (some may still be signed in).
        accounts: Vec<AccountView>,
    },
    /// A login attempt waits for the browser (or completes its callback).
    Waiting(AttemptView),
    /// Signed in.
    SignedIn {
        /// The cached profile (avatar as a `data:` URL of cached bytes).
        profile: Option<PublicProfile>,
        /// When this user last logged in on this device.
        last_login_at: Option<SystemTime>,
        /// Kakao could not be reached the last time the session was checked.
        offline: bool,
        /// What the card offers to ask for (additional consent).
        consent_offers: Vec<ConsentOffer>,
        /// How the last additional consent ended.
        consent_note: Option<ConsentNote>,
        /// The accounts used here, the one in use first.
        accounts: Vec<AccountView>,
    },
}

/// Kakao Login on this device (see the module docs).
pub struct KakaoLogin {
    config: Config,
    clock: Arc<dyn Clock>,
    kakao: KakaoClient,
    /// Backend mode: the publisher's server finishes logins and holds
    /// Kakao's tokens ([`crate::backend`]).
    backend: Option<Arc<BackendClient>>,
    oidc: IdTokenVerifier,
    cache: Mutex<ProfileCache>,
    browser: Box<dyn Browser>,
    /// `Some(error code)` when the keychain was unavailable and the session is
    /// kept in memory only.
    memory_only: Option<ErrorCode>,
    attempts: Attempts,
    /// The additional-consent attempt in progress: its id and offer.
    consent_attempt: Mutex<Option<(u64, String)>>,
    live: LiveSession,
}

impl std::fmt::Debug for KakaoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KakaoLogin")
            .field("memory_only", &self.memory_only)
            .finish_non_exhaustive()
    }
}

/// How [`KakaoLogin::recheck_while_offline`] ended. Each way changes what
/// the window shows; an error with it is one the user must hear.
#[derive(Debug)]
pub enum Recheck {
    /// Kakao answers again (the badge is gone), with an error if its answer
    /// was a refusal the session survived.
    Reachable(Option<LoginError>),
    /// The session ended (signed out elsewhere in the app, or Kakao refused
    /// the refresh token: the error).
    Ended(Option<LoginError>),
    /// Kakao could not be reached (one check: the badge shows).
    Unreachable,
    /// Kakao stayed unreachable for the whole backoff.
    GaveUp,
}

/// The waits between re-checks of an unreachable Kakao: 15 s, doubling, at
/// most 5 minutes, for about a day.
pub fn recheck_delays() -> impl Iterator<Item = Duration> {
    const FIRST_SECS: u64 = 15;
    const MOST_SECS: u64 = 300;
    (0..300u32).map(|n| Duration::from_secs((FIRST_SECS << n.min(10)).min(MOST_SECS)))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KakaoLogin {
    /// Opens the login: builds the HTTP client and gets the vault key.
    ///
    /// When the key source reports the keychain unavailable, the session is
    /// kept in memory only (a random key and memory slots) and
    /// [`KakaoLogin::keychain_problem`] says so; nothing is written in
    /// plaintext.
    ///
    /// # Errors
    /// [`OpenError`] when the HTTP client cannot be built or the key source
    /// fails for another reason (a malformed key file, the RNG).
    pub fn open(parts: LoginParts) -> Result<Self, OpenError> {
        let kakao = KakaoClient::new(&parts.config, parts.client_options)?;
        let backend = parts
            .config
            .backend
            .as_ref()
            .map(|config| BackendClient::new(config, parts.client_options).map(Arc::new))
            .transpose()?;
        let (vault, memory_only) = match parts.key_source.load_or_create() {
            Ok((key, _origin)) => (Vault::new(&parts.app_id, key, parts.vault_storage), None),
            Err(error) if error.code() == ErrorCode::KeychainUnavailable => {
                tracing::warn!(%error, "no keychain: the session is kept in memory only");
                let storage: Box<dyn VaultStorage> = Box::new(MemoryVaultStorage::new());
                (
                    Vault::new(&parts.app_id, random_vault_key()?, storage),
                    Some(error.code()),
                )
            }
            Err(error) => return Err(error.into()),
        };
        let oidc = IdTokenVerifier::with_issuer(
            parts.config.auth_base_url.clone(),
            parts.config.issuer.clone(),
        );
        Ok(Self {
            config: parts.config,
            clock: parts.clock,
            kakao,
            backend: backend.clone(),
            oidc,
            cache: Mutex::new(parts.cache),
            browser: parts.browser,
            memory_only,
            attempts: Attempts::new(),
            consent_attempt: Mutex::new(None),
            live: LiveSession::new(
                parts.app_id,
                SessionPolicy {
                    idle: parts.session_lifetime,
                    max_age: parts.session_max_age,
                },
                vault,
                backend,
            ),
        })
    }

    /// `Some(keychain_unavailable)` when the session lives in memory only.
    pub fn keychain_problem(&self) -> Option<ErrorCode> {
        self.memory_only
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts a login attempt: a new PKCE verifier, `state`, `nonce` and
    /// deadline (replacing any attempt in progress), and Kakao's authorize
    /// page in the system browser. In loopback mode the receiver listens
    /// first, so a taken port is reported before the browser opens.
    ///
    /// # Errors
    /// `internal` when the OS RNG fails, the registered loopback port is
    /// taken, or no browser could be opened (the attempt is then withdrawn).
    pub async fn begin_login(&self, options: &LoginOptions) -> Result<LoginAttempt, LoginError> {
        let request = begin(&self.config, options, self.clock.now())?;
        let url = request.url.clone();
        let attempt = self.attempts.begin(request).await?;
        if let Err(error) = self.browser.open(&url) {
            tracing::error!(%error, "could not open the system browser");
            self.attempts.withdraw(attempt.id());
            return Err(error.into());
        }
        Ok(attempt)
    }

    /// Opens the waiting attempt's authorize page in the browser again.
    ///
    /// # Errors
    /// `login_timeout` when no attempt waits; `internal` when no browser
    /// opens.
    pub fn reopen_browser(&self) -> Result<(), LoginError> {
        let url = self.attempts.authorize_url().ok_or(LoginError::NoAttempt)?;
        self.browser.open(&url).map_err(|error| {
            tracing::error!(%error, "could not open the system browser");
            error.into()
        })
    }

    /// Withdraws the attempt in progress, if any, and stops the loopback
    /// receiver; a callback that arrives later is refused.
    pub fn cancel_login(&self) {
        self.attempts.cancel();
    }

    /// True while an attempt waits for its callback.
    pub fn login_pending(&self) -> bool {
        self.attempts.is_pending()
    }

    /// Hands a deep link (`<scheme>://oauth/callback?code&state`) to the
    /// attempt it belongs to. `Ok` means the attempt took it; its
    /// [`KakaoLogin::await_callback`] completes the login and reports how it
    /// went. No request is sent here.
    ///
    /// # Errors
    /// Refusals that leave the attempt in progress as it was:
    /// `state_mismatch` (a forged or stale link), `invalid_callback` (no
    /// attempt waits, or it waits on loopback).
    pub fn complete_login(&self, link: &DeepLink) -> Result<(), LoginError> {
        Ok(self.attempts.deliver(link, self.clock.now())?)
    }

    /// Waits for the callback of `attempt` (a deep link handed in by
    /// [`KakaoLogin::complete_login`], or, in loopback mode, the browser's
    /// request to the receiver, answered with a page in `language`), then
    /// completes the login: token exchange with the PKCE verifier → id_token
    /// verification → first paint (`on_first_paint` is called once the
    /// id_token's nickname is in the [`KakaoLogin::snapshot`]) →
    /// `/v2/user/me` → cache upsert → thumbnail → vault.
    ///
    /// # Errors
    /// [`LoginError::Withdrawn`] when the app cancelled or replaced the
    /// attempt (nothing to report); `login_timeout` at the deadline; the
    /// callback's refusal (`login_cancelled` on Kakao's page, …); or the
    /// completion's (`kakao_config`, `session_expired`, `network`, …).
    pub async fn await_callback(
        &self,
        attempt: LoginAttempt,
        language: Language,
        on_first_paint: impl FnOnce() + Send,
    ) -> Result<PublicProfile, LoginError> {
        let id = attempt.id();
        // While the user is in the browser, Kakao's discovery document and
        // keys are fetched, so only the token exchange stands between the
        // link and the first paint. The prefetch is dropped (at the end of
        // this block, releasing the key cache) if the link comes first;
        // verification then fetches what is missing.
        let waited = {
            let wait = self.attempts.wait(&attempt, &*self.clock, language);
            let prefetch = async {
                // Backend mode: the server verifies Kakao's id_token.
                if self.backend.is_none() {
                    self.oidc.prefetch(&self.kakao, &*self.clock).await;
                }
            };
            tokio::pin!(wait, prefetch);
            let mut prefetching = self.config.oidc;
            loop {
                tokio::select! {
                    waited = &mut wait => break waited,
                    () = &mut prefetch, if prefetching => prefetching = false,
                }
            }
        };
        let result = match waited {
            Ok(callback) => self.finish_login(id, callback, on_first_paint).await,
            Err(error) => Err(error),
        };
        self.attempts.finish(id);
        let consent = {
            let mut current = lock(&self.consent_attempt);
            match &*current {
                Some((attempt_id, _)) if *attempt_id == id => {
                    current.take().map(|(_, offer)| offer)
                }
                _ => None,
            }
        };
        let result = match (consent, result) {
            (None, result) => result,
            (Some(offer), Ok(profile)) => {
                self.live.note_consent(Some(ConsentNote {
                    offer,
                    outcome: ConsentOutcome::Added,
                }));
                Ok(profile)
            }
            (Some(_), Err(error)) if error.is_withdrawn() => Err(error),
            (Some(offer), Err(error)) => {
                let declined = error.code() == ErrorCode::LoginCancelled;
                if declined {
                    tracing::info!(offer, "additional consent declined; nothing changed");
                }
                self.live.note_consent(Some(ConsentNote {
                    offer,
                    outcome: if declined {
                        ConsentOutcome::Declined
                    } else {
                        ConsentOutcome::Failed
                    },
                }));
                Err(if declined {
                    LoginError::ConsentDeclined
                } else {
                    error
                })
            }
        };
        match &result {
            Ok(_) => tracing::info!("login complete"),
            Err(error) if error.is_withdrawn() || error.is_consent_declined() => {}
            Err(error) => tracing::info!(code = %error.code(), "login did not complete"),
        }
        result
    }

    async fn finish_login(
        &self,
        attempt_id: u64,
        callback: Callback,
        on_first_paint: impl FnOnce() + Send,
    ) -> Result<PublicProfile, LoginError> {
        let Callback { code, pending } = callback;
        if let Some(backend) = &self.backend {
            return self.finish_backend_login(backend, code, pending).await;
        }
        let tokens = self
            .kakao
            .exchange_code(&code, pending.verifier(), pending.redirect_uri())
            .await
            .inspect_err(
                |e| tracing::warn!(kakao_code = %e.kakao_code(), "token exchange failed"),
            )?;
        drop(code);
        let now = self.clock.now();
        let granted_openid = tokens
            .scope
            .as_ref()
            .is_some_and(|scopes| scopes.iter().any(|s| s == "openid"));
        if tokens.id_token.is_none() && (pending.expects_id_token() || granted_openid) {
            // Without the id_token the nonce is never checked: a login that
            // asked for OpenID Connect does not go on without it.
            tracing::warn!("the login asked for openid but Kakao sent no id_token");
            return Err(OidcError::Missing.into());
        }
        let mut claimed_id = None;
        let mut picture = None;
        if let Some(id_token) = &tokens.id_token {
            let claims = self
                .oidc
                .verify(
                    &self.kakao,
                    id_token,
                    &self.config.client_id,
                    pending.nonce(),
                    &*self.clock,
                )
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "id_token refused"))?;
            let id: KakaoId = claims.sub.parse().map_err(|_| LoginError::UserMismatch)?;
            if pending.for_account.is_some_and(|account| account != id) {
                return Err(self.refuse_other_account(&tokens).await);
            }
            let paint = FirstPaint {
                kakao_id: id,
                nickname: claims.nickname.clone(),
            };
            if self.attempts.set_first_paint(attempt_id, paint) {
                on_first_paint();
            }
            claimed_id = Some(id);
            picture = claims.picture.as_deref().and_then(picture_url);
        }
        // The profile and the thumbnail the id_token names, at once.
        let early_thumbnail = async {
            match &picture {
                Some(url) => self.fetch_thumbnail_at(url).await,
                None => None,
            }
        };
        let me = self
            .kakao
            .retry_once("user_me", || self.kakao.user_me(&tokens.access_token));
        // A failing /v2/user/me drops the download instead of waiting for it.
        let (me, early_thumbnail) = tokio::try_join!(me, async { Ok(early_thumbnail.await) })?;
        let (profile, _warnings) = KakaoProfile::from_user_me(&me);
        if claimed_id.is_some_and(|id| id != profile.id) {
            return Err(LoginError::UserMismatch);
        }
        if pending.for_account.is_some_and(|id| id != profile.id) {
            return Err(self.refuse_other_account(&tokens).await);
        }
        // The profile's own thumbnail URL decides: the early bytes are kept
        // only when they are of that picture.
        let thumbnail = match &profile.thumbnail_url {
            Some(url) if picture.as_ref() == Some(url) => early_thumbnail,
            Some(url) => self.fetch_thumbnail_at(url).await,
            None => None,
        };
        let cached = lock(&self.cache).upsert_login(&profile, thumbnail.as_ref(), now)?;
        let record = self.live.mint_login(profile.id, tokens, now)?;
        // The cached row plus what the cache does not keep (consents still
        // needed), with the thumbnail as a data URL for offline display.
        let mut shown = cached;
        shown.profile = profile;
        let public = shown.to_public();
        let evicted = self.live.install_login(record, Some(shown))?;
        self.revoke_in_background(evicted);
        Ok(public)
    }

    /// Backend mode's end of a login: the server exchanges the code and
    /// answers with the service's tokens (verified against its JWKS) and
    /// the user, which is cached with its thumbnail as in direct mode.
    async fn finish_backend_login(
        &self,
        backend: &BackendClient,
        code: AuthorizationCode,
        pending: crate::authorize::PendingLogin,
    ) -> Result<PublicProfile, LoginError> {
        let login = backend
            .login(
                &code,
                pending.verifier(),
                pending.redirect_uri(),
                pending.nonce(),
            )
            .await
            .inspect_err(|e| tracing::warn!(code = %e.kakao_code(), "the backend login failed"))?;
        drop(code);
        let profile = login.profile;
        if pending.for_account.is_some_and(|id| id != profile.id) {
            tracing::warn!("the login came back for another account; refused");
            if let Err(error) = backend.logout(&login.tokens.access_token).await {
                tracing::warn!(code = %error.kakao_code(), "could not end the other account's session");
            }
            return Err(LoginError::OtherAccount);
        }
        let thumbnail = match &profile.thumbnail_url {
            Some(url) => self.fetch_thumbnail_at(url).await,
            None => None,
        };
        let now = self.clock.now();
        let cached = lock(&self.cache).upsert_login(&profile, thumbnail.as_ref(), now)?;
        let record = self.live.mint_login(profile.id, login.tokens, now)?;
        let mut shown = cached;
        shown.profile = profile;
        let public = shown.to_public();
        let evicted = self.live.install_login(record, Some(shown))?;
        self.revoke_in_background(evicted);
        tracing::info!(created = login.created, "signed in through the backend");
        Ok(public)
    }

    /// Consent asked for the signed-in user, given by another account the
    /// browser is signed in to: its new tokens are revoked at once, and the
    /// session stays as it was.
    async fn refuse_other_account(&self, tokens: &crate::kakao::TokenSet) -> LoginError {
        tracing::warn!("additional consent came back for another account; refused");
        if let Err(error) = self.kakao.logout(&tokens.access_token).await {
            tracing::warn!(kakao_code = %error.kakao_code(), "could not revoke the other account's tokens");
        }
        LoginError::OtherAccount
    }

    /// The thumbnail bytes for offline display; any failure is logged and
    /// leaves the login intact.
    async fn fetch_thumbnail_at(&self, url: &url::Url) -> Option<Thumbnail> {
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

    /// The "add …" actions the profile card offers now.
    pub fn consent_offers(&self) -> Vec<ConsentOffer> {
        // Backend mode: consent is the server's business (its login path
        // has no additional-consent flow yet), so the card offers none.
        if !self.live.is_signed_in() || self.backend.is_some() {
            return Vec::new();
        }
        let cached = self.live.profile();
        offers(
            cached.as_ref().map(|c| &c.profile),
            &self.config.scopes,
            &self.live.consent().required,
        )
    }

    /// Whether the card may offer to withdraw shared items
    /// ([`KakaoLogin::withdraw_consent`]): in direct mode. In backend mode
    /// the app holds no Kakao token to ask Kakao with.
    pub fn can_withdraw_consent(&self) -> bool {
        self.backend.is_none()
    }

    /// True while signed in and Kakao could not be reached the last time
    /// the session was checked (the offline badge). No I/O.
    pub fn is_offline(&self) -> bool {
        self.live.is_signed_in() && self.live.is_offline()
    }

    /// Starts additional consent for the offer named `offer_id`
    /// ([`KakaoLogin::consent_offers`]): a login for the signed-in account
    /// that asks for just its scopes, through the same path as every login
    /// (PKCE, `state`, `nonce`, the configured redirect mode). The session
    /// stays while it runs; agreeing updates the cached profile and the
    /// session's tokens, declining changes nothing (the card says so).
    ///
    /// # Errors
    /// `session_expired` when not signed in; `internal` for an offer not on
    /// the card; [`KakaoLogin::begin_login`]'s errors.
    pub async fn begin_consent(&self, offer_id: &str) -> Result<LoginAttempt, LoginError> {
        let account = self.live.kakao_id().ok_or(LoginError::NotSignedIn)?;
        let offer = self
            .consent_offers()
            .into_iter()
            .find(|o| o.id == offer_id)
            .ok_or(LoginError::NoSuchOffer)?;
        self.live.note_consent(None);
        let options = LoginOptions {
            scopes: offer.scopes,
            for_account: Some(account),
            ..LoginOptions::default()
        };
        let attempt = self.begin_login(&options).await?;
        *lock(&self.consent_attempt) = Some((attempt.id(), offer.id));
        Ok(attempt)
    }

    /// Withdraws an item the user shared (`birthday` with its year, or
    /// `account_email`) at Kakao (`/v2/user/revoke/scopes`), then reads the
    /// profile again, so the card drops the value and offers to add it back.
    /// Only items Kakao says the user agreed to and may withdraw are sent.
    ///
    /// # Errors
    /// `session_expired` when not signed in; `not_revocable` when the app's
    /// console makes the item required (nothing changes); `internal` for an
    /// item the card does not show; Kakao's errors.
    pub async fn withdraw_consent(&self, item: &str) -> Result<PublicProfile, LoginError> {
        self.live.kakao_id().ok_or(LoginError::NotSignedIn)?;
        if self.backend.is_some() {
            return Err(LoginError::NoSuchOffer);
        }
        let scopes: &[&str] = match item {
            "birthday" => &["birthday", "birthyear"],
            "account_email" => &["account_email"],
            _ => return Err(LoginError::NoSuchOffer),
        };
        let known = self
            .live
            .with_token(
                "user_scopes",
                &self.kakao,
                &*self.clock,
                |token| async move { self.kakao.user_scopes(&token).await },
            )
            .await?;
        let agreed: Vec<&crate::kakao::ScopeInfo> = known
            .scopes
            .iter()
            .filter(|s| s.agreed && scopes.contains(&s.id.as_str()))
            .collect();
        if agreed.iter().any(|s| s.revocable == Some(false)) {
            return Err(LoginError::NotRevocable);
        }
        let withdraw: Vec<String> = agreed.iter().map(|s| s.id.clone()).collect();
        if !withdraw.is_empty() {
            let list = &withdraw;
            self.live
                .with_token(
                    "revoke_scopes",
                    &self.kakao,
                    &*self.clock,
                    |token| async move { self.kakao.revoke_scopes(&token, list).await },
                )
                .await?;
            tracing::info!(item, "consent withdrawn at Kakao");
        }
        self.refresh_profile().await
    }

    /// Reads the signed-in user's profile again (`/v2/user/me`, refreshing
    /// the access token only on -401 as every call does) and updates the
    /// cache and the card; `last_login_at` stays. No token is issued
    /// otherwise. Kakao being unreachable sets the offline badge.
    ///
    /// # Errors
    /// `session_expired` when not signed in; Kakao's errors
    /// (`consent_required` after a -402, whose scopes the card then offers);
    /// `storage`.
    pub async fn refresh_profile(&self) -> Result<PublicProfile, LoginError> {
        let id = self.live.kakao_id().ok_or(LoginError::NotSignedIn)?;
        let installs = self.live.installs();
        let result = match &self.backend {
            Some(backend) => {
                let me = self
                    .live
                    .with_token("me", &self.kakao, &*self.clock, |token| async move {
                        backend.me(&token).await
                    })
                    .await;
                if let Ok(me) = &me
                    && me.stale
                {
                    // The server could not reach Kakao: what it stored is no
                    // fresher than the cache, which stays as it is (and due
                    // for a re-read), with the offline badge.
                    self.live.note_check(true);
                    return self
                        .live
                        .profile()
                        .map(|c| c.to_public())
                        .ok_or(LoginError::NotSignedIn);
                }
                me.map(|me| me.profile)
            }
            None => self
                .live
                .with_token("user_me", &self.kakao, &*self.clock, |token| async move {
                    self.kakao.user_me(&token).await
                })
                .await
                .map(|me| KakaoProfile::from_user_me(&me).0),
        };
        let profile = match result {
            Ok(profile) => profile,
            Err(error) => {
                if error.is_unreachable() {
                    self.live.note_check(true);
                }
                return Err(error);
            }
        };
        self.live.note_check(false);
        if profile.id != id {
            return Err(LoginError::UserMismatch);
        }
        let cached_picture = self
            .live
            .profile()
            .filter(|c| c.thumbnail.is_some() && c.profile.thumbnail_url == profile.thumbnail_url);
        let thumbnail = match (cached_picture, &profile.thumbnail_url) {
            (None, Some(url)) => self.fetch_thumbnail_at(url).await,
            _ => None,
        };
        // A login or consent that completed meanwhile read a newer profile:
        // this one is dropped. (A refresh of the token does not count.)
        if self.live.kakao_id() != Some(id) || self.live.installs() != installs {
            tracing::info!("the session changed while the profile was read; dropped");
            return self
                .live
                .profile()
                .map(|c| c.to_public())
                .ok_or(LoginError::NotSignedIn);
        }
        let now = self.clock.now();
        let cached = {
            let cache = lock(&self.cache);
            match cache.update_profile(&profile, thumbnail.as_ref(), now)? {
                Some(cached) => cached,
                // The row went missing (the file was replaced): written anew,
                // as at a login.
                None => cache.upsert_login(&profile, thumbnail.as_ref(), now)?,
            }
        };
        let public = cached.to_public();
        self.live.set_profile(cached, installs);
        tracing::info!("profile refreshed");
        Ok(public)
    }

    /// [`KakaoLogin::refresh_profile`] when the cached profile was last read
    /// more than `max_age` ago; the shell calls it once per start. Returns
    /// whether it read the profile.
    ///
    /// # Errors
    /// As [`KakaoLogin::refresh_profile`].
    pub async fn refresh_stale_profile(&self, max_age: Duration) -> Result<bool, LoginError> {
        if !self.live.is_signed_in() {
            return Ok(false);
        }
        // No cached profile at all is as stale as it gets.
        let fresh = self.live.profile().is_some_and(|cached| {
            self.clock
                .now()
                .duration_since(cached.fetched_at)
                .unwrap_or_default()
                < max_age
        });
        if fresh {
            return Ok(false);
        }
        self.refresh_profile().await.map(|_| true)
    }

    /// While Kakao stays unreachable (the offline badge), asks again after
    /// each of [`recheck_delays`]; when it answers, reads the profile if it
    /// is older than `max_age`. A focus of the window or the retry action
    /// asks at once instead ([`KakaoLogin::verify_session`]).
    pub async fn recheck_while_offline(&self, max_age: Duration) -> Recheck {
        self.recheck_while_offline_after(recheck_delays(), max_age)
            .await
    }

    /// [`KakaoLogin::recheck_while_offline`] with the given waits.
    pub async fn recheck_while_offline_after(
        &self,
        delays: impl IntoIterator<Item = Duration>,
        max_age: Duration,
    ) -> Recheck {
        for delay in delays {
            if !self.live.is_signed_in() {
                return Recheck::Ended(None);
            }
            if !self.live.is_offline() {
                return Recheck::Reachable(None);
            }
            tokio::time::sleep(delay).await;
            if !self.live.is_offline() {
                // Someone else's check (a focus, the retry) got through.
                return Recheck::Reachable(None);
            }
            tracing::debug!("asking Kakao again after it could not be reached");
            match self.recheck_once(max_age).await {
                Recheck::Unreachable => {}
                answered => {
                    tracing::info!("Kakao answers again");
                    return answered;
                }
            }
        }
        Recheck::GaveUp
    }

    /// One check with Kakao, as after a start, a switch, a window focus:
    /// asks about the session ([`KakaoLogin::verify_session`]) and, when
    /// Kakao answers, reads a profile older than `max_age`
    /// ([`KakaoLogin::refresh_stale_profile`]). Says how it went: Kakao
    /// answered (with the error it refused something with), the session
    /// ended, or Kakao could not be reached (the offline badge shows).
    pub async fn recheck_once(&self, max_age: Duration) -> Recheck {
        if !self.live.is_signed_in() {
            return Recheck::Ended(None);
        }
        match self.verify_session().await {
            // Kakao answered, and the answer was no (the refresh token is
            // gone, a limit, a config error).
            Err(error) if self.live.is_signed_in() => Recheck::Reachable(Some(error)),
            Err(error) => Recheck::Ended(Some(error)),
            Ok(()) if self.live.is_offline() => Recheck::Unreachable,
            Ok(()) => match self.refresh_stale_profile(max_age).await {
                Err(error) if error.is_unreachable() => Recheck::Unreachable,
                read => Recheck::Reachable(read.err()),
            },
        }
    }

    /// Restores the session from the vault at start-up, without the network:
    /// opens the vault, validates the session JWT by the injected clock, and
    /// loads the cached profile. Returns the public profile, or `None` when no
    /// session was saved.
    ///
    /// # Errors
    /// `session_expired` when the session JWT expired or the vault did not
    /// open (it was moved aside; the cached profile stays for "continue as");
    /// `storage` when the vault or cache could not be read.
    pub async fn restore_session(&self) -> Result<Option<PublicProfile>, LoginError> {
        let Some(record) = self.live.open_saved(self.clock.now())? else {
            return Ok(None);
        };
        let cached = lock(&self.cache).get(record.kakao_id)?;
        let public = cached.as_ref().map(CachedProfile::to_public);
        self.live.install(record, cached);
        tracing::info!("session restored");
        Ok(public)
    }

    /// True while a session is live.
    pub fn is_signed_in(&self) -> bool {
        self.live.is_signed_in()
    }

    /// The account in use, if any.
    pub fn account_in_use(&self) -> Option<KakaoId> {
        self.live.kakao_id()
    }

    /// The signed-in user's cached profile (with thumbnail bytes), if any.
    pub fn current_profile(&self) -> Option<CachedProfile> {
        self.live.profile()
    }

    /// The profile of the account that signed in here most recently, for
    /// "continue as \<nickname\>" after a sign-out or an expired session.
    ///
    /// # Errors
    /// `storage` when the cache cannot be read.
    pub fn most_recent_profile(&self) -> Result<Option<CachedProfile>, LoginError> {
        Ok(lock(&self.cache).most_recent()?)
    }

    /// Everything a window draws, read without the network.
    pub fn snapshot(&self) -> LoginSnapshot {
        if let Some(view) = self.attempts.view() {
            return LoginSnapshot::Waiting(view);
        }
        if self.live.is_signed_in() {
            let cached = self.live.profile();
            return LoginSnapshot::SignedIn {
                last_login_at: cached.as_ref().map(|c| c.last_login_at),
                profile: cached.as_ref().map(CachedProfile::to_public),
                offline: self.live.is_offline(),
                consent_offers: self.consent_offers(),
                consent_note: self.live.consent().last,
                accounts: self.accounts(),
            };
        }
        let continue_as = match self.most_recent_profile() {
            Ok(last) => last.as_ref().map(CachedProfile::to_public),
            Err(error) => {
                tracing::warn!(%error, "cannot read the last account");
                None
            }
        };
        LoginSnapshot::SignedOut {
            continue_as,
            accounts: self.accounts(),
        }
    }

    /// The accounts used on this device, for the switcher: every one signed
    /// in here (the one in use first), then the latest signed-out ones.
    pub fn accounts(&self) -> Vec<AccountView> {
        let (active, signed_in) = self.live.signed_in();
        let cache = lock(&self.cache);
        let recent = cache
            .recent(signed_in.len() + MAX_LISTED_SIGNED_OUT)
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot list the accounts used here");
                Vec::new()
            });
        accounts::account_list(
            &signed_in,
            active,
            |id| match recent.iter().find(|c| c.profile.id == id) {
                Some(cached) => Some(cached.clone()),
                None => cache.get(id).ok().flatten(),
            },
            &recent,
        )
    }

    /// Switches to another account signed in on this device: no browser, no
    /// network (the next Kakao call checks its tokens as after a restart).
    /// Switching to the account in use does nothing.
    ///
    /// # Errors
    /// `session_expired` when `id` is not signed in here or its session
    /// ended (it is then wiped; its cached profile stays for a new login);
    /// `storage` when the vault or cache cannot be used.
    pub fn switch_account(&self, id: KakaoId) -> Result<(), LoginError> {
        if self.live.kakao_id() == Some(id) {
            return Ok(());
        }
        let cached = lock(&self.cache).get(id)?;
        self.live.switch_to(id, cached, self.clock.now())
    }

    /// "Remove from this device": signs the account out (its tokens revoked
    /// at Kakao, as [`KakaoLogin::logout`]; a Kakao failure does not stop
    /// the removal) and forgets its cached profile. Works for the account in
    /// use, another signed-in one, or one already signed out.
    ///
    /// # Errors
    /// `storage` when the vault or cache cannot be written.
    pub async fn remove_account(&self, id: KakaoId) -> Result<(), LoginError> {
        if self.live.kakao_id() == Some(id) {
            self.logout_account(id).await?;
        } else if let Some(record) = self.live.remove_other(id)? {
            // Off this device first, then revoked: a failure at Kakao
            // cannot leave it here.
            self.revoke(&record).await;
        }
        lock(&self.cache).delete(id)?;
        tracing::info!("account removed from this device");
        Ok(())
    }

    /// Revokes a session that is no longer kept here at Kakao
    /// (`/v1/user/logout`), refreshing first when its access token has
    /// expired so that its refresh token does not stay alive. Failures are
    /// logged: the session is gone from this device either way.
    async fn revoke(&self, record: &crate::session::SessionRecord) {
        revoke_with(
            &self.kakao,
            self.backend.as_deref(),
            record,
            self.clock.now(),
        )
        .await;
    }

    /// [`KakaoLogin::revoke`] of `records` in the background, so a login
    /// that pushed sessions out completes without waiting.
    fn revoke_in_background(&self, records: Vec<crate::session::SessionRecord>) {
        if records.is_empty() {
            return;
        }
        let kakao = self.kakao.clone();
        let backend = self.backend.clone();
        let clock = Arc::clone(&self.clock);
        tokio::spawn(async move {
            for record in &records {
                revoke_with(&kakao, backend.as_deref(), record, clock.now()).await;
            }
        });
    }

    /// Whether the app can sign the browser out of the Kakao Account: a
    /// logout redirect URI is configured (Kakao refuses the request
    /// otherwise, KOE007).
    pub fn can_sign_out_of_browser(&self) -> bool {
        self.config.logout_redirect_uri.is_some()
    }

    /// Opens Kakao's account logout (`/oauth/logout`,
    /// `docs/kakao-api.md` §5.3) in the system browser, for a shared PC: the
    /// browser's Kakao Account session ends, so the next login asks who is
    /// there. It revokes no token (that is [`KakaoLogin::logout`]).
    ///
    /// # Errors
    /// `internal` when no logout redirect URI is configured or no browser
    /// could be started.
    pub fn sign_out_of_browser(&self) -> Result<(), LoginError> {
        let target = self
            .config
            .logout_redirect_uri
            .as_ref()
            .ok_or(LoginError::NoLogoutRedirect)?;
        let mut url = self.config.auth_base_url.endpoint("oauth/logout");
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("logout_redirect_uri", target.as_str());
        self.browser
            .open(&crate::secret::SecretUrl::new(url))
            .inspect_err(|error| tracing::warn!(%error, "could not open Kakao's account logout"))?;
        tracing::info!("opened Kakao's account logout in the browser");
        Ok(())
    }

    /// Refreshes the access token if it expires within
    /// [`crate::session::REFRESH_MARGIN`]. Returns whether a refresh
    /// happened.
    ///
    /// # Errors
    /// `session_expired` when not signed in or Kakao refused the refresh
    /// token (the session is then wiped, the cached profile kept); `network`,
    /// `kakao_temporary`, `rate_limited` leave the session intact.
    pub async fn refresh_if_needed(&self) -> Result<bool, LoginError> {
        self.live.refresh_if_needed(&self.kakao, &*self.clock).await
    }

    /// Asks Kakao whether the access token is still good
    /// (`/v1/user/access_token_info`), refreshing once on -401, and notes
    /// whether Kakao could be reached (the offline badge).
    ///
    /// # Errors
    /// As [`KakaoLogin::refresh_if_needed`], plus Kakao's errors.
    pub async fn check_session(&self) -> Result<AccessTokenInfo, LoginError> {
        let result = match &self.backend {
            // Backend mode: the server's `/v1/me` answers for the session
            // (and asks Kakao on the server's side).
            Some(backend) => self
                .live
                .with_token("me", &self.kakao, &*self.clock, |token| async move {
                    backend.me(&token).await
                })
                .await
                .map(|me| AccessTokenInfo {
                    id: Some(me.profile.id.get()),
                    expires_in: 0,
                    app_id: 0,
                }),
            None => {
                self.live
                    .with_token(
                        "access_token_info",
                        &self.kakao,
                        &*self.clock,
                        |token| async move { self.kakao.access_token_info(&token).await },
                    )
                    .await
            }
        };
        match &result {
            Ok(_) => self.live.note_check(false),
            Err(error) if error.is_unreachable() => {
                tracing::info!(code = %error.code(), "Kakao unreachable; showing the cached profile");
                self.live.note_check(true);
            }
            Err(_) => {}
        }
        result
    }

    /// The one check after a restore: asks Kakao about the session
    /// ([`KakaoLogin::check_session`]) when one is live. Kakao being
    /// unreachable is no error here: the cached profile shows with the
    /// offline badge. It issues no token unless Kakao says -401 (Kakao limits
    /// token issuance).
    ///
    /// # Errors
    /// What the user must hear: `session_expired` when the refresh token is
    /// gone (the session is wiped), `rate_limited`, `kakao_config`, ….
    pub async fn verify_session(&self) -> Result<(), LoginError> {
        if !self.is_signed_in() {
            return Ok(());
        }
        match self.check_session().await {
            Err(error) if !error.is_unreachable() => Err(error),
            _ => Ok(()),
        }
    }

    /// Signs out: revokes the tokens at Kakao (`/v1/user/logout`) — after a
    /// refresh when the access token has expired, so the refresh token is not
    /// left alive at Kakao — then wipes the local session even if Kakao
    /// failed. The cached profile stays.
    ///
    /// # Errors
    /// `storage` only when the local wipe failed; a Kakao failure is logged,
    /// not returned.
    pub async fn logout(&self) -> Result<(), LoginError> {
        match self.live.kakao_id() {
            Some(id) => self.logout_account(id).await,
            None => Ok(()),
        }
    }

    /// [`KakaoLogin::logout`] of `id`, the account in use when it began: a
    /// switch meanwhile never signs out the other account.
    async fn logout_account(&self, id: KakaoId) -> Result<(), LoginError> {
        let revoked = self
            .live
            .with_token("logout", &self.kakao, &*self.clock, |token| async move {
                match &self.backend {
                    Some(backend) => backend.logout(&token).await,
                    None => self.kakao.logout(&token).await,
                }
            })
            .await;
        let ended = self.live.end(id)?;
        match revoked {
            Ok(()) => {}
            // The account stopped being the one in use while its tokens
            // were being revoked: revoke what was sealed for it.
            Err(error) if error.is_superseded() => {
                if let Some(record) = ended {
                    self.revoke(&record).await;
                }
            }
            Err(error) => {
                tracing::warn!(code = %error.code(), "Kakao logout failed; signed out locally anyway");
            }
        }
        tracing::info!("signed out");
        Ok(())
    }

    /// Unlinks the app from the user's Kakao account (`/v1/user/unlink`),
    /// then wipes the session and removes the cached profile. When Kakao
    /// fails, nothing is wiped.
    ///
    /// # Errors
    /// `session_expired` when not signed in; Kakao's errors; `storage`.
    pub async fn unlink(&self) -> Result<(), LoginError> {
        let id = self.live.kakao_id().ok_or(LoginError::NotSignedIn)?;
        self.live
            .with_token("unlink", &self.kakao, &*self.clock, |token| async move {
                match &self.backend {
                    Some(backend) => backend.delete_me(&token).await,
                    None => self.kakao.unlink(&token).await,
                }
            })
            .await?;
        self.live.end(id)?;
        lock(&self.cache).delete(id)?;
        tracing::info!("unlinked; session and cached profile removed");
        Ok(())
    }
}

/// Revokes `record`'s tokens at Kakao (see [`KakaoLogin::revoke`]).
/// In backend mode the server ends the service session (and logs out at
/// Kakao).
async fn revoke_with(
    kakao: &KakaoClient,
    backend: Option<&BackendClient>,
    record: &crate::session::SessionRecord,
    now: SystemTime,
) {
    if let Some(backend) = backend {
        let token = if record.access_expires_soon(now) {
            match backend.refresh(&record.refresh_token).await {
                Ok(tokens) => tokens.access_token,
                Err(error) => {
                    tracing::info!(code = %error.kakao_code(), "could not refresh a session no longer kept to end it");
                    return;
                }
            }
        } else {
            record.access_token.clone()
        };
        if let Err(error) = backend.logout(&token).await {
            tracing::warn!(code = %error.kakao_code(), "the backend logout of a session no longer kept failed");
        }
        return;
    }
    let token = if record.access_expires_soon(now) {
        match kakao.refresh(&record.refresh_token).await {
            Ok(tokens) => tokens.access_token,
            Err(error) => {
                tracing::info!(kakao_code = %error.kakao_code(), "could not refresh a session no longer kept to revoke it");
                return;
            }
        }
    } else {
        record.access_token.clone()
    };
    if let Err(error) = kakao.logout(&token).await {
        tracing::warn!(kakao_code = %error.kakao_code(), "Kakao logout of a session no longer kept failed");
    }
}

/// The thumbnail URL of an id_token's `picture` claim, as `/v2/user/me`
/// gives it with `secure_resource=true`: Kakao's image CDN is asked over
/// https (the claim may say http), so the early download is allowed and
/// matches the profile's URL. Anything not http(s) is ignored.
fn picture_url(raw: &str) -> Option<url::Url> {
    let mut url = url::Url::parse(raw).ok()?;
    let kakao_cdn = url
        .host_str()
        .is_some_and(|host| host == "kakaocdn.net" || host.ends_with(".kakaocdn.net"));
    if url.scheme() == "http" && kakao_cdn {
        url.set_scheme("https").ok()?;
    }
    matches!(url.scheme(), "http" | "https").then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_on_kakaos_cdn_is_asked_for_over_https() {
        assert_eq!(
            picture_url("http://k.kakaocdn.net/dn/a/img_110x110.jpg").map(String::from),
            Some("https://k.kakaocdn.net/dn/a/img_110x110.jpg".to_owned()),
            "as /v2/user/me gives it with secure_resource=true"
        );
        assert_eq!(
            picture_url("http://127.0.0.1:9/images/a.png").map(String::from),
            Some("http://127.0.0.1:9/images/a.png".to_owned()),
            "other hosts are left as they are (the download then checks them)"
        );
        assert_eq!(
            picture_url("http://evil-kakaocdn.net/a.png").map(String::from),
            Some("http://evil-kakaocdn.net/a.png".to_owned()),
            "only Kakao's CDN itself is upgraded"
        );
        assert_eq!(picture_url("javascript:alert(1)"), None);
        assert_eq!(picture_url("not a url"), None);
    }

    #[test]
    fn rechecks_back_off_from_15_seconds_to_5_minutes() {
        let delays: Vec<u64> = recheck_delays().take(7).map(|d| d.as_secs()).collect();
        assert_eq!(delays, [15, 30, 60, 120, 240, 300, 300]);
        let total: u64 = recheck_delays().map(|d| d.as_secs()).sum();
        assert!(
            total > 20 * 3600,
            "it keeps asking for about a day: {total} s"
        );
    }
}

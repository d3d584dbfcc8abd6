//! The live session: the signed-in user's record in memory and sealed in the
//! vault, the profile shown for it, whether Kakao was reachable last time, and
//! the token refresh policy.
//!
//! Refresh policy (`docs/kakao-api.md` §3, §8): only on -401 or when the
//! access token expires within [`REFRESH_MARGIN`], never on a timer or at
//! start-up (Kakao limits how many tokens a user may be issued); single-flight
//! (a generation counter lets callers that waited for someone else's refresh
//! skip their own and retry once); a new refresh token is sealed into the
//! vault before it is used; `invalid_grant` ends the session but keeps the
//! cached profile; transient failures get one jittered retry.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use super::consent::ConsentNote;
use super::error::LoginError;
use crate::ErrorCode;
use crate::cache::CachedProfile;
use crate::clock::Clock;
use crate::clock::from_unix_seconds;
use crate::kakao::{KakaoClient, KakaoError, TokenSet};
use crate::profile::KakaoId;
use crate::secret::AccessToken;
use crate::session::{
    REFRESH_MARGIN, SessionClaims, SessionError, SessionKey, SessionPolicy, SessionRecord, extend,
    mint, validate,
};

/// Slides shorter than this are not written (a restart a minute later).
const SLIDE_STEP: Duration = Duration::from_secs(3600);

/// "No bound" for a refresh token whose expiry Kakao did not say.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
use crate::vault::{Vault, VaultError};

/// The signed-in state.
struct Live {
    record: SessionRecord,
    /// Changes with every refresh, so a caller that saw -401 can tell
    /// whether someone refreshed meanwhile.
    generation: u64,
    /// The cached profile shown for this user (with thumbnail bytes).
    profile: Option<CachedProfile>,
}

/// The live session and its vault.
pub(super) struct LiveSession {
    app_id: String,
    policy: SessionPolicy,
    vault: Vault,
    key: SessionKey,
    state: RwLock<Option<Live>>,
    refresh_gate: tokio::sync::Mutex<()>,
    /// Kakao could not be reached the last time the session was checked.
    offline: AtomicBool,
    /// Sessions installed so far (bumped under the state's write lock).
    installs: AtomicU64,
    /// Consent the signed-in user still owes: the `required_scopes` of the
    /// last -402, and the offer they declined last (for the card).
    consent: std::sync::Mutex<ConsentState>,
}

/// What the card says about additional consent.
#[derive(Debug, Clone, Default)]
pub(super) struct ConsentState {
    /// The scopes the last -402 named.
    pub(super) required: Vec<String>,
    /// How the last additional consent ended.
    pub(super) last: Option<ConsentNote>,
}

impl LiveSession {
    pub(super) fn new(app_id: String, policy: SessionPolicy, vault: Vault) -> Self {
        let key = SessionKey::derive(vault.key(), &app_id);
        Self {
            app_id,
            policy,
            vault,
            key,
            state: RwLock::new(None),
            refresh_gate: tokio::sync::Mutex::new(()),
            offline: AtomicBool::new(false),
            installs: AtomicU64::new(0),
            consent: std::sync::Mutex::default(),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Option<Live>> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Option<Live>> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the session saved in the vault, if any, and checks it by `now`
    /// with no network. A session that is no longer valid is wiped.
    ///
    /// # Errors
    /// `session_expired` when its JWT expired or was not ours, or both Kakao
    /// tokens expired (the vault is then empty); `storage` when the vault
    /// could not be read; a vault nothing opens was moved aside.
    pub(super) fn open_saved(&self, now: SystemTime) -> Result<Option<SessionRecord>, LoginError> {
        let Some(bytes) = self.vault.load()? else {
            return Ok(None);
        };
        let record = SessionRecord::from_bytes(&bytes)?;
        let claims = match validate(&self.key, &self.app_id, &record.session_jwt, now) {
            Ok(claims) => claims,
            Err(error) => {
                tracing::info!(%error, "the stored session is no longer valid; signing out locally");
                self.clear()?;
                return Err(error.into());
            }
        };
        if claims.sub != record.kakao_id.to_string() {
            self.clear()?;
            return Err(SessionError::InvalidToken.into());
        }
        if record.refresh_expires_at <= now && record.access_expires_at <= now {
            tracing::info!("both Kakao tokens expired; signing out locally");
            self.clear()?;
            return Err(SessionError::Expired.into());
        }
        // Used today: the session slides (README, "Staying signed in").
        let mut record = record;
        if self.slide(&mut record, &claims, now)
            && let Err(error) = self.vault.save(&record.to_bytes())
        {
            tracing::warn!(%error, "could not save the extended session; it ends as before");
        }
        Ok(Some(record))
    }

    /// Moves the session's end by the policy for a use `now`; true when the
    /// record's session JWT changed (then it must be sealed). Moves of less
    /// than an hour are skipped, so a restart does not rewrite the vault.
    fn slide(&self, record: &mut SessionRecord, claims: &SessionClaims, now: SystemTime) -> bool {
        if record.refresh_expires_at <= now {
            // Nothing can renew the session any more: it ends as it was.
            return false;
        }
        let end = self
            .policy
            .expiry(claims.login_at(), now, record.refresh_expires_at);
        let current = from_unix_seconds(claims.exp);
        if end <= current + SLIDE_STEP {
            return false;
        }
        match extend(&self.key, claims, end, now) {
            Ok((jwt, _)) => {
                record.session_jwt = jwt;
                tracing::debug!("session extended");
                true
            }
            Err(error) => {
                tracing::warn!(%error, "could not extend the session");
                false
            }
        }
    }

    /// Mints the session JWT for a fresh login and seals the new session.
    ///
    /// # Errors
    /// `internal` when minting fails or Kakao sent no refresh token;
    /// `storage` when the vault cannot be written.
    pub(super) fn seal_login(
        &self,
        kakao_id: KakaoId,
        tokens: TokenSet,
        now: SystemTime,
    ) -> Result<SessionRecord, LoginError> {
        // The first end: `idle` from now, bounded by the refresh token.
        let refresh_end = tokens
            .refresh_token_expires_in
            .filter(|secs| *secs > 0)
            .and_then(|secs| now.checked_add(Duration::from_secs(secs)));
        let end = self.policy.expiry(
            now,
            now,
            refresh_end.unwrap_or(SystemTime::UNIX_EPOCH + FAR),
        );
        let lifetime = end.duration_since(now).unwrap_or_default();
        let (session_jwt, _claims) = mint(&self.key, &self.app_id, kakao_id, lifetime, now)?;
        let record = SessionRecord::from_login(session_jwt, kakao_id, tokens, now)
            .ok_or(LoginError::NoRefreshToken)?;
        self.vault.save(&record.to_bytes())?;
        Ok(record)
    }

    fn consent_state(&self) -> std::sync::MutexGuard<'_, ConsentState> {
        self.consent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The consent state the card shows.
    pub(super) fn consent(&self) -> ConsentState {
        self.consent_state().clone()
    }

    /// Notes how the last additional consent ended (or clears it).
    pub(super) fn note_consent(&self, note: Option<ConsentNote>) {
        self.consent_state().last = note;
    }

    /// How many sessions were installed so far (logins, consents,
    /// restores): a caller that read it before an `.await` can tell whether
    /// a newer session replaced the one it worked for.
    pub(super) fn installs(&self) -> u64 {
        self.installs.load(Ordering::Acquire)
    }

    /// Replaces the shown profile (a refresh outside a login) if no newer
    /// session was installed since `installs` ([`LiveSession::installs`]).
    pub(super) fn set_profile(&self, profile: CachedProfile, installs: u64) {
        let mut state = self.write();
        if self.installs() == installs
            && let Some(live) = state.as_mut()
            && live.record.kakao_id == profile.profile.id
        {
            live.profile = Some(profile);
        }
    }

    /// Makes `record` the live session, shown with `profile`.
    pub(super) fn install(&self, record: SessionRecord, profile: Option<CachedProfile>) {
        let mut state = self.write();
        let generation = state.as_ref().map_or(0, |l| l.generation + 1);
        *state = Some(Live {
            record,
            generation,
            profile,
        });
        self.installs.fetch_add(1, Ordering::AcqRel);
        self.offline.store(false, Ordering::Relaxed);
        *self.consent_state() = ConsentState::default();
    }

    /// Ends the session: memory first, then the vault.
    ///
    /// # Errors
    /// [`VaultError::Storage`] when the slots cannot be removed.
    pub(super) fn clear(&self) -> Result<(), VaultError> {
        *self.write() = None;
        self.offline.store(false, Ordering::Relaxed);
        *self.consent_state() = ConsentState::default();
        self.vault.clear()
    }

    pub(super) fn is_signed_in(&self) -> bool {
        self.read().is_some()
    }

    pub(super) fn kakao_id(&self) -> Option<KakaoId> {
        self.read().as_ref().map(|l| l.record.kakao_id)
    }

    pub(super) fn profile(&self) -> Option<CachedProfile> {
        self.read().as_ref().and_then(|l| l.profile.clone())
    }

    pub(super) fn is_offline(&self) -> bool {
        self.offline.load(Ordering::Relaxed)
    }

    /// Notes how the last check with Kakao went: unreachable shows the
    /// offline badge, any answer clears it.
    pub(super) fn note_check(&self, unreachable: bool) {
        self.offline.store(unreachable, Ordering::Relaxed);
    }

    /// Refreshes the access token if it expires within [`REFRESH_MARGIN`].
    ///
    /// # Errors
    /// As [`LiveSession::refresh_after`].
    pub(super) async fn refresh_if_needed(
        &self,
        kakao: &KakaoClient,
        clock: &dyn Clock,
    ) -> Result<bool, LoginError> {
        let (generation, soon) = {
            let state = self.read();
            let live = state.as_ref().ok_or(LoginError::NotSignedIn)?;
            (
                live.generation,
                live.record.access_expires_at <= clock.now() + REFRESH_MARGIN,
            )
        };
        if !soon {
            return Ok(false);
        }
        self.refresh_after(generation, kakao, clock).await
    }

    /// Runs a kapi call with the current access token: refreshes first when
    /// the token is about to expire, and once after a -401; transient errors
    /// get one jittered retry.
    ///
    /// # Errors
    /// The call's [`KakaoError`], or the refresh's.
    pub(super) async fn with_token<T, F, Fut>(
        &self,
        what: &'static str,
        kakao: &KakaoClient,
        clock: &dyn Clock,
        op: F,
    ) -> Result<T, LoginError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, KakaoError>>,
    {
        self.refresh_if_needed(kakao, clock).await?;
        let (generation, token) = self.current_token()?;
        let result = match kakao.retry_once(what, || op(token.clone())).await {
            Err(error) if error.is_invalid_token() => {
                tracing::info!(what, "access token refused (-401); refreshing once");
                self.refresh_after(generation, kakao, clock).await?;
                let (_, token) = self.current_token()?;
                kakao.retry_once(what, || op(token.clone())).await
            }
            other => other,
        };
        if let Err(error) = &result
            && let Some(scopes) = error.required_scopes()
        {
            // -402: the card offers to ask for exactly these.
            tracing::info!(what, scopes = ?scopes, "Kakao wants more consent (-402)");
            self.consent_state().required = scopes.to_vec();
        }
        Ok(result?)
    }

    fn current_token(&self) -> Result<(u64, AccessToken), LoginError> {
        let state = self.read();
        let live = state.as_ref().ok_or(LoginError::NotSignedIn)?;
        Ok((live.generation, live.record.access_token.clone()))
    }

    /// Single-flight refresh: the first caller refreshes; callers that were
    /// waiting on the gate see the generation moved and return at once.
    ///
    /// # Errors
    /// `session_expired` when not signed in or Kakao refused the refresh
    /// token (the session is then wiped, the cached profile kept);
    /// `network`, `kakao_temporary`, `rate_limited` leave the session intact.
    async fn refresh_after(
        &self,
        seen_generation: u64,
        kakao: &KakaoClient,
        clock: &dyn Clock,
    ) -> Result<bool, LoginError> {
        let _gate = self.refresh_gate.lock().await;
        let refresh_token = {
            let state = self.read();
            let live = state.as_ref().ok_or(LoginError::NotSignedIn)?;
            if live.generation != seen_generation {
                return Ok(true);
            }
            live.record.refresh_token.clone()
        };
        let tokens = match kakao
            .retry_once("refresh", || kakao.refresh(&refresh_token))
            .await
        {
            Ok(tokens) => tokens,
            Err(error) if error.code() == ErrorCode::SessionExpired => {
                tracing::info!(kakao_code = %error.kakao_code(), "Kakao refused the refresh token; signing out");
                self.clear()?;
                return Err(error.into());
            }
            Err(error) => {
                tracing::warn!(kakao_code = %error.kakao_code(), "refresh failed; the session is kept");
                return Err(error.into());
            }
        };
        let mut state = self.write();
        let live = state.as_mut().ok_or(LoginError::NotSignedIn)?;
        if live.generation != seen_generation {
            // A new session was installed meanwhile (a consent, a login):
            // these tokens belong to the one it replaced.
            tracing::info!("the session changed during a refresh; its result is dropped");
            return Ok(true);
        }
        let mut record = live.record.clone();
        let now = clock.now();
        record.apply_refresh(tokens, now);
        // A refresh is a use: the session slides with it, within the (maybe
        // renewed) refresh token's life.
        if let Ok(claims) = validate(&self.key, &self.app_id, &record.session_jwt, now) {
            self.slide(&mut record, &claims, now);
        }
        // Seal before use: Kakao may already have revoked the old refresh
        // token, so the new one must not exist only in memory.
        if let Err(error) = self.vault.save(&record.to_bytes()) {
            tracing::error!(%error, "could not persist the refreshed session; keeping it in memory");
        }
        live.record = record;
        live.generation += 1;
        tracing::info!("access token refreshed");
        Ok(true)
    }
}

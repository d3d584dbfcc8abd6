//! The live session: the signed-in user's record in memory and sealed in the
//! vault, the profile shown for it, whether Kakao was reachable last time, and
//! the token refresh policy; beside it, the sessions of the other accounts
//! signed in on this device (several accounts), sealed with it as one
//! [`SessionSet`].
//!
//! Refresh policy (`docs/kakao-api.md` §3, §8): only on -401 or when the
//! access token expires within [`REFRESH_MARGIN`], never on a timer or at
//! start-up (Kakao limits how many tokens a user may be issued); single-flight
//! (a caller that waited for someone else's refresh sees the access token it
//! had replaced, skips its own and retries once); a refresh's result goes to
//! the session it was made for (same account, same refresh token) and no
//! other; a new refresh token is sealed into the
//! vault before it is used; `invalid_grant` ends the session but keeps the
//! cached profile; transient failures get one jittered retry.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use super::consent::ConsentNote;
use super::error::LoginError;
use crate::ErrorCode;
use crate::backend::BackendClient;
use crate::cache::CachedProfile;
use crate::clock::Clock;
use crate::clock::from_unix_seconds;
use crate::kakao::{KakaoClient, KakaoError, TokenSet};
use crate::profile::KakaoId;
use crate::secret::AccessToken;
use crate::session::{
    MAX_SIGNED_IN, REFRESH_MARGIN, SessionClaims, SessionError, SessionKey, SessionPolicy,
    SessionRecord, SessionSet, SetFormat, extend, mint, validate,
};

/// Slides shorter than this are not written (a restart a minute later).
const SLIDE_STEP: Duration = Duration::from_secs(3600);

/// "No bound" for a refresh token whose expiry Kakao did not say.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
use crate::vault::{Vault, VaultError};

/// The signed-in state.
struct Live {
    record: SessionRecord,
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
    /// The other accounts signed in on this device, most recently used
    /// first. Changed only while the state's write lock is held, so every
    /// write of the set (lock order: state, others, vault) sees one truth.
    others: std::sync::Mutex<Vec<SessionRecord>>,
    /// Backend mode: the server that refreshes and revokes the service's
    /// tokens the records hold (Kakao's, in direct mode).
    backend: Option<Arc<BackendClient>>,
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
    pub(super) fn new(
        app_id: String,
        policy: SessionPolicy,
        vault: Vault,
        backend: Option<Arc<BackendClient>>,
    ) -> Self {
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
            others: std::sync::Mutex::default(),
            backend,
        }
    }

    fn others(&self) -> std::sync::MutexGuard<'_, Vec<SessionRecord>> {
        self.others.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seals the set of `active` (in use) and `others`; with `forget`, into
    /// both slots, because an account left it and its tokens must not stay
    /// in the older slot. An empty set is a [`Vault::clear`].
    fn save_set(
        &self,
        active: Option<&SessionRecord>,
        others: &[SessionRecord],
        forget: bool,
    ) -> Result<(), VaultError> {
        let set = SessionSet {
            active: active.map(|r| r.kakao_id),
            sessions: active.into_iter().chain(others).cloned().collect(),
        };
        if set.is_empty() {
            return self.vault.clear();
        }
        let bytes = set.to_bytes();
        if forget {
            self.vault.save_over_both(&bytes)
        } else {
            self.vault.save(&bytes)
        }
    }

    /// Seals the set with `record` as the session in use.
    fn save_active(&self, record: &SessionRecord) -> Result<(), VaultError> {
        let others = self.others();
        self.save_set(Some(record), &others, false)
    }

    fn read(&self) -> RwLockReadGuard<'_, Option<Live>> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Option<Live>> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the sessions saved in the vault and checks each by `now` with
    /// no network; returns the one in use, if any. Sessions no longer valid
    /// are wiped (the rest stay); a vault from before several accounts is
    /// rewritten as a set of its one account.
    ///
    /// # Errors
    /// `session_expired` when the session in use expired or was not ours,
    /// or both its Kakao tokens expired (it is then wiped); `storage` when
    /// the vault could not be read; a vault nothing opens was moved aside.
    pub(super) fn open_saved(&self, now: SystemTime) -> Result<Option<SessionRecord>, LoginError> {
        let _state = self.write();
        let Some(bytes) = self.vault.load()? else {
            return Ok(None);
        };
        let (set, format) = SessionSet::from_bytes(&bytes)?;
        let mut active = None;
        let mut others = Vec::new();
        let mut active_error = None;
        let mut dropped = false;
        let mut slid = format == SetFormat::Single;
        for mut record in set.sessions {
            let in_use = set.active == Some(record.kakao_id);
            // Only the account in use is used by this start: the others
            // keep their idle clock until they are switched to.
            match self.check(&mut record, now, in_use) {
                Ok(extended) => {
                    slid |= extended;
                    if in_use {
                        active = Some(record);
                    } else {
                        others.push(record);
                    }
                }
                Err(error) => {
                    dropped = true;
                    if in_use {
                        active_error = Some(error);
                    }
                }
            }
        }
        if dropped {
            self.save_set(active.as_ref(), &others, true)?;
        } else if slid && let Err(error) = self.save_set(active.as_ref(), &others, false) {
            // A vault from before several accounts stays readable as it is.
            tracing::warn!(%error, "could not save the extended sessions; they end as before");
        }
        if format == SetFormat::Single {
            tracing::info!("read a vault from before several accounts");
        }
        *self.others() = others;
        match active_error {
            Some(error) => Err(error),
            None => Ok(active),
        }
    }

    /// Checks a saved session by `now` (its JWT is ours, for its account,
    /// not expired; a Kakao token still alive) and, when it is being used
    /// (`used`), slides it; true when it changed and must be sealed.
    fn check(
        &self,
        record: &mut SessionRecord,
        now: SystemTime,
        used: bool,
    ) -> Result<bool, LoginError> {
        let claims = validate(&self.key, &self.app_id, &record.session_jwt, now).inspect_err(
            |error| tracing::info!(%error, "a stored session is no longer valid; signing it out locally"),
        )?;
        if claims.sub != record.kakao_id.to_string() {
            return Err(SessionError::InvalidToken.into());
        }
        if record.refresh_expires_at <= now && record.access_expires_at <= now {
            tracing::info!("both Kakao tokens of a stored session expired; signing it out locally");
            return Err(SessionError::Expired.into());
        }
        // Used today: the session slides (README, "Staying signed in").
        Ok(used && self.slide(record, &claims, now))
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

    /// Mints the session JWT for a fresh login: the record to
    /// [`LiveSession::install_login`].
    ///
    /// # Errors
    /// `internal` when minting fails or Kakao sent no refresh token.
    pub(super) fn mint_login(
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
        SessionRecord::from_login(session_jwt, kakao_id, tokens, now)
            .ok_or(LoginError::NoRefreshToken)
    }

    /// Seals a fresh login's `record` as the session in use and makes it
    /// live. The account that was in use, if another, stays signed in beside
    /// it; one logging in again replaces its old session. Past
    /// [`MAX_SIGNED_IN`], the account used longest ago is signed out here;
    /// its session is returned, to revoke its tokens.
    ///
    /// # Errors
    /// `storage` when the vault cannot be written (nothing changed then).
    pub(super) fn install_login(
        &self,
        record: SessionRecord,
        profile: Option<CachedProfile>,
    ) -> Result<Vec<SessionRecord>, VaultError> {
        let mut state = self.write();
        let mut others = self.others();
        // The account's own earlier session (a login again, a consent) is
        // replaced: its tokens are written over in both slots, not revoked
        // (a consent is the same authorization, widened; they expire).
        let (replaced, mut next): (Vec<SessionRecord>, Vec<SessionRecord>) = others
            .iter()
            .cloned()
            .partition(|r| r.kakao_id == record.kakao_id);
        let mut replaced = !replaced.is_empty();
        match state.as_ref() {
            Some(live) if live.record.kakao_id != record.kakao_id => {
                next.insert(0, live.record.clone());
            }
            Some(_) => replaced = true,
            None => {}
        }
        let gone = if next.len() >= MAX_SIGNED_IN {
            tracing::info!("too many accounts signed in; signing out the one used longest ago");
            next.split_off(MAX_SIGNED_IN - 1)
        } else {
            Vec::new()
        };
        self.save_set(Some(&record), &next, replaced || !gone.is_empty())?;
        *others = next;
        drop(others);
        self.put(&mut state, record, profile);
        Ok(gone)
    }

    /// Makes the signed-in account `id` the one in use, with `profile`
    /// shown; the one in use before stays signed in. No network.
    ///
    /// # Errors
    /// `session_expired` when `id` is not signed in here, or its session
    /// ended (it is then wiped); `storage` when the vault cannot be written.
    pub(super) fn switch_to(
        &self,
        id: KakaoId,
        profile: Option<CachedProfile>,
        now: SystemTime,
    ) -> Result<(), LoginError> {
        let mut state = self.write();
        let mut others = self.others();
        let Some(position) = others.iter().position(|r| r.kakao_id == id) else {
            return Err(LoginError::NotSignedIn);
        };
        let mut next = others.clone();
        let mut record = next.remove(position);
        if let Err(error) = self.check(&mut record, now, true) {
            self.save_set(state.as_ref().map(|l| &l.record), &next, true)?;
            *others = next;
            return Err(error);
        }
        if let Some(live) = state.as_ref() {
            next.insert(0, live.record.clone());
        }
        self.save_set(Some(&record), &next, false)?;
        *others = next;
        drop(others);
        self.put(&mut state, record, profile);
        tracing::info!("switched account");
        Ok(())
    }

    /// Takes the signed-in account `id`, not the one in use, off this
    /// device's sessions; returns its record (to revoke its tokens), or
    /// `None` when it was not signed in.
    ///
    /// # Errors
    /// `storage` when the vault cannot be written (nothing changed then).
    pub(super) fn remove_other(&self, id: KakaoId) -> Result<Option<SessionRecord>, VaultError> {
        let state = self.write();
        let mut others = self.others();
        let Some(position) = others.iter().position(|r| r.kakao_id == id) else {
            return Ok(None);
        };
        let mut next = others.clone();
        let removed = next.remove(position);
        self.save_set(state.as_ref().map(|l| &l.record), &next, true)?;
        *others = next;
        Ok(Some(removed))
    }

    /// The accounts signed in here: the one in use first, then the others
    /// most recently used first.
    pub(super) fn signed_in(&self) -> (Option<KakaoId>, Vec<KakaoId>) {
        let state = self.read();
        let others = self.others();
        let active = state.as_ref().map(|l| l.record.kakao_id);
        let all = active
            .into_iter()
            .chain(others.iter().map(|r| r.kakao_id))
            .collect();
        (active, all)
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

    /// Makes `record`, already sealed, the live session, shown with
    /// `profile` (a restore at start-up).
    pub(super) fn install(&self, record: SessionRecord, profile: Option<CachedProfile>) {
        let mut state = self.write();
        self.put(&mut state, record, profile);
    }

    fn put(
        &self,
        state: &mut RwLockWriteGuard<'_, Option<Live>>,
        record: SessionRecord,
        profile: Option<CachedProfile>,
    ) {
        **state = Some(Live { record, profile });
        self.installs.fetch_add(1, Ordering::AcqRel);
        self.offline.store(false, Ordering::Relaxed);
        *self.consent_state() = ConsentState::default();
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
        let (seen, soon) = {
            let state = self.read();
            let live = state.as_ref().ok_or(LoginError::NotSignedIn)?;
            (
                live.record.access_token.clone(),
                live.record.access_expires_at <= clock.now() + REFRESH_MARGIN,
            )
        };
        if !soon {
            return Ok(false);
        }
        self.refresh_after(&seen, kakao, clock).await
    }

    /// Runs a kapi call with the access token of the account in use:
    /// refreshes first when the token is about to expire, and once after a
    /// -401; transient errors get one jittered retry. The call stays the
    /// account's it started for: if another account went live meanwhile
    /// (a switch), it ends with [`LoginError::Superseded`] instead of using
    /// that account's token.
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
        let account = self.kakao_id().ok_or(LoginError::NotSignedIn)?;
        self.refresh_if_needed(kakao, clock).await?;
        let token = self.current_token(account)?;
        let result = match kakao.retry_once(what, || op(token.clone())).await {
            Err(error) if error.is_invalid_token() => {
                tracing::info!(what, "access token refused (-401); refreshing once");
                self.refresh_after(&token, kakao, clock).await?;
                let token = self.current_token(account)?;
                kakao.retry_once(what, || op(token.clone())).await
            }
            other => other,
        };
        if self.kakao_id() != Some(account) {
            // The answer is about an account no longer in use: neither its
            // error nor its success is this account's.
            return Err(LoginError::Superseded);
        }
        if let Err(error) = &result
            && let Some(scopes) = error.required_scopes()
            && self.kakao_id() == Some(account)
        {
            // -402: the card offers to ask for exactly these.
            tracing::info!(what, scopes = ?scopes, "Kakao wants more consent (-402)");
            self.consent_state().required = scopes.to_vec();
        }
        Ok(result?)
    }

    /// The access token of `account`, if it is still the one in use (a
    /// call begun for it ends as [`LoginError::Superseded`] otherwise, also
    /// when it was signed out meanwhile).
    fn current_token(&self, account: KakaoId) -> Result<AccessToken, LoginError> {
        let state = self.read();
        match state.as_ref() {
            Some(live) if live.record.kakao_id == account => Ok(live.record.access_token.clone()),
            _ => Err(LoginError::Superseded),
        }
    }

    /// Single-flight refresh: the first caller refreshes; callers that were
    /// waiting on the gate see the access token they saw (`seen`) replaced
    /// and return at once.
    /// Its result goes to the session it was made for — the one holding
    /// that account and that refresh token, live or switched away from —
    /// and to no other.
    ///
    /// # Errors
    /// `session_expired` when not signed in or Kakao refused the refresh
    /// token of the session in use (it is then wiped, the cached profile
    /// kept); [`LoginError::Superseded`] when Kakao refused it for an
    /// account no longer in use (that session is wiped, the one in use is
    /// untouched); `network`, `kakao_temporary`, `rate_limited` leave the
    /// session intact.
    async fn refresh_after(
        &self,
        seen: &AccessToken,
        kakao: &KakaoClient,
        clock: &dyn Clock,
    ) -> Result<bool, LoginError> {
        let gate = self.refresh_gate.lock().await;
        let (account, refresh_token) = {
            let state = self.read();
            // Signed out while this waited: the caller's account is gone.
            let live = state.as_ref().ok_or(LoginError::Superseded)?;
            if live.record.access_token.secret() != seen.secret() {
                return Ok(true);
            }
            (live.record.kakao_id, live.record.refresh_token.clone())
        };
        let made_for = |record: &SessionRecord| {
            record.kakao_id == account && record.refresh_token.secret() == refresh_token.secret()
        };
        let answer = match &self.backend {
            // Never retried: the server may have rotated the token before
            // its answer was lost, and sending the old one again is reuse,
            // which ends the session.
            Some(backend) => backend.refresh(&refresh_token).await,
            None => {
                kakao
                    .retry_once("refresh", || kakao.refresh(&refresh_token))
                    .await
            }
        };
        let tokens = match answer {
            Ok(tokens) => tokens,
            Err(error) if error.code() == ErrorCode::SessionExpired => {
                tracing::info!(kakao_code = %error.kakao_code(), "Kakao refused the refresh token; signing that session out");
                return match self.end_where(made_for)? {
                    (Ended::Live, _) => Err(error.into()),
                    (Ended::Other | Ended::Nothing, _) => Err(LoginError::Superseded),
                };
            }
            Err(error) => {
                tracing::warn!(kakao_code = %error.kakao_code(), "refresh failed; the session is kept");
                return Err(error.into());
            }
        };
        let now = clock.now();
        let orphan = {
            let mut state = self.write();
            match state.as_mut() {
                Some(live) if made_for(&live.record) => {
                    let mut record = live.record.clone();
                    record.apply_refresh(tokens, now);
                    // A refresh is a use: the session slides with it, within
                    // the (maybe renewed) refresh token's life.
                    if let Ok(claims) = validate(&self.key, &self.app_id, &record.session_jwt, now)
                    {
                        self.slide(&mut record, &claims, now);
                    }
                    // Seal before use: Kakao may already have revoked the old
                    // refresh token, so the new one must not exist only in
                    // memory.
                    if let Err(error) = self.save_active(&record) {
                        tracing::error!(%error, "could not persist the refreshed session; keeping it in memory");
                    }
                    live.record = record;
                    tracing::info!("access token refreshed");
                    None
                }
                live => self.refreshed_meanwhile(live.as_deref(), made_for, tokens, now),
            }
        };
        drop(gate);
        if let Some(access_token) = orphan {
            // Issued for a session no longer kept (removed, replaced by a
            // login): nothing will use them, so they are revoked.
            let revoked = match &self.backend {
                Some(backend) => backend.logout(&access_token).await,
                None => kakao.logout(&access_token).await,
            };
            if let Err(error) = revoked {
                tracing::info!(kakao_code = %error.kakao_code(), "could not revoke the tokens of a session no longer kept");
            }
        }
        Ok(true)
    }

    /// A refresh came back after its session stopped being the one in use.
    /// If it waits beside it (the user switched away), the new tokens are
    /// sealed into it; otherwise the session is gone and the new access
    /// token is returned for revocation.
    fn refreshed_meanwhile(
        &self,
        live: Option<&Live>,
        made_for: impl Fn(&SessionRecord) -> bool,
        tokens: TokenSet,
        now: SystemTime,
    ) -> Option<AccessToken> {
        let mut others = self.others();
        let Some(position) = others.iter().position(made_for) else {
            tracing::info!("the session changed during a refresh; its tokens are revoked");
            return Some(tokens.access_token);
        };
        let mut next = others.clone();
        next[position].apply_refresh(tokens, now);
        if let Err(error) = self.save_set(live.map(|l| &l.record), &next, false) {
            tracing::error!(%error, "could not persist a refreshed session; keeping it in memory");
        }
        *others = next;
        tracing::info!("access token refreshed for an account switched away from");
        None
    }

    /// Ends the one session `which` picks, live or beside it, and reports
    /// which it was (with its record). The session in use is never ended
    /// for another's sake. A session is ended because it is dead or signed
    /// out, so memory forgets it even when the vault cannot be written (the
    /// error is returned; a restart then finds it refused by Kakao).
    fn end_where(
        &self,
        which: impl Fn(&SessionRecord) -> bool,
    ) -> Result<(Ended, Option<SessionRecord>), VaultError> {
        let mut state = self.write();
        let mut others = self.others();
        if state.as_ref().is_some_and(|live| which(&live.record)) {
            let saved = self.save_set(None, &others, true);
            let ended = state.take().map(|live| live.record);
            self.offline.store(false, Ordering::Relaxed);
            *self.consent_state() = ConsentState::default();
            return saved.map(|()| (Ended::Live, ended));
        }
        let Some(position) = others.iter().position(&which) else {
            return Ok((Ended::Nothing, None));
        };
        let mut next = others.clone();
        let ended = next.remove(position);
        let saved = self.save_set(state.as_ref().map(|l| &l.record), &next, true);
        *others = next;
        saved.map(|()| (Ended::Other, Some(ended)))
    }

    /// Signs `account` out on this device (its session, live or beside the
    /// one in use); the other accounts stay. Returns its record, if it was
    /// signed in.
    ///
    /// # Errors
    /// [`VaultError::Storage`] when the vault cannot be written (memory has
    /// forgotten the session all the same).
    pub(super) fn end(&self, account: KakaoId) -> Result<Option<SessionRecord>, VaultError> {
        self.end_where(|record| record.kakao_id == account)
            .map(|(_, record)| record)
    }
}

/// Which session [`LiveSession::end_where`] ended.
enum Ended {
    /// The one in use.
    Live,
    /// One beside it.
    Other,
    /// None matched.
    Nothing,
}

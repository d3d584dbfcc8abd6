//! The public API the shell calls: one [`Account`] owning the configuration,
//! the Kakao client, the clock, the profile cache and the session vault.
//!
//! | shell action            | method                                    | network |
//! |-------------------------|-------------------------------------------|---------|
//! | login button            | [`Account::begin_login`]                  | no      |
//! | deep link arrives       | [`Account::complete_login`]               | yes     |
//! | loopback mode           | [`Account::receive_loopback_login`]       | yes     |
//! | cancel button           | [`Account::cancel_login`]                 | no      |
//! | start-up                | [`Account::restore_session`]              | no      |
//! | show the user           | [`Account::current_profile`]              | no      |
//! | "continue as …"         | [`Account::last_account`]                 | no      |
//! | before a Kakao call     | [`Account::refresh_if_needed`]            | maybe   |
//! | check with Kakao        | [`Account::check_session`]                | yes     |
//! | logout / unlink         | [`Account::logout`], [`Account::unlink`]  | yes     |
//!
//! Refresh policy (DESIGN §5): only on -401 or when the access token expires
//! within [`REFRESH_MARGIN`]; single-flight (concurrent callers wait for one
//! refresh, then retry once); a new refresh token is sealed into the vault
//! before it is used; `invalid_grant` ends the session but keeps the cached
//! profile; transient failures get one jittered retry.

mod login;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use thiserror::Error;
use tokio::sync::{RwLock, watch};

use crate::ErrorCode;
use crate::cache::{CacheError, CachedProfile, ProfileCache};
use crate::callback::CallbackError;
use crate::clock::Clock;
use crate::config::Config;
use crate::kakao::{AccessTokenInfo, ClientBuildError, ClientOptions, KakaoClient, KakaoError};
use crate::login::{PendingLogin, RandomError};
use crate::loopback::{LoopbackError, LoopbackListener};
use crate::oidc::{IdTokenVerifier, OidcError};
use crate::profile::PublicProfile;
use crate::secret::AccessToken;
use crate::session::{
    DEFAULT_SESSION_LIFETIME, REFRESH_MARGIN, SessionError, SessionKey, SessionRecord, validate,
};
use crate::vault::{
    KeyError, KeySource, MemoryVaultStorage, Vault, VaultError, VaultStorage, random_vault_key,
};

pub use login::LoginStarted;

/// What the shell injects.
#[derive(Debug)]
pub struct AccountParts {
    /// The resolved configuration.
    pub config: Config,
    /// The app identifier (reverse DNS): JWT issuer, vault binding.
    pub app_id: String,
    /// The deep-link scheme callbacks arrive on (differs between debug and
    /// release builds).
    pub deep_link_scheme: String,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The profile cache.
    pub cache: ProfileCache,
    /// Where the vault key comes from.
    pub key_source: Box<dyn KeySource>,
    /// Where the vault keeps its slots.
    pub vault_storage: Box<dyn VaultStorage>,
    /// HTTP timeouts and retry pacing.
    pub client_options: ClientOptions,
    /// Absolute session lifetime (default 30 days).
    pub session_lifetime: Duration,
}

impl AccountParts {
    /// Parts with the default timeouts and session lifetime.
    pub fn new(
        config: Config,
        app_id: impl Into<String>,
        deep_link_scheme: impl Into<String>,
        clock: Arc<dyn Clock>,
        cache: ProfileCache,
        key_source: Box<dyn KeySource>,
        vault_storage: Box<dyn VaultStorage>,
    ) -> Self {
        Self {
            config,
            app_id: app_id.into(),
            deep_link_scheme: deep_link_scheme.into(),
            clock,
            cache,
            key_source,
            vault_storage,
            client_options: ClientOptions::default(),
            session_lifetime: DEFAULT_SESSION_LIFETIME,
        }
    }
}

/// Why an account operation failed. [`AccountError::code`] is what the UI
/// shows.
#[derive(Debug, Error)]
pub enum AccountError {
    /// A callback was refused.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// Kakao refused or could not be reached.
    #[error(transparent)]
    Kakao(#[from] KakaoError),
    /// The id_token did not verify.
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// The session JWT or record is unusable.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The profile cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The loopback receiver could not listen.
    #[error(transparent)]
    Loopback(#[from] LoopbackError),
    /// The OS RNG failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The id_token and `/v2/user/me` name different users.
    #[error("the id_token and /v2/user/me name different users")]
    UserMismatch,
    /// Kakao's token answer lacked a refresh token at login.
    #[error("Kakao issued no refresh token")]
    NoRefreshToken,
    /// No session: sign in first.
    #[error("not signed in")]
    NotSignedIn,
    /// The login was cancelled in the app.
    #[error("the login was cancelled")]
    Cancelled,
    /// The login's deadline passed while waiting for the browser.
    #[error("the login timed out")]
    TimedOut,
}

impl AccountError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Callback(e) => e.code(),
            Self::Kakao(e) => e.code(),
            Self::Oidc(e) => e.code(),
            Self::Session(e) => e.code(),
            Self::Vault(e) => e.code(),
            Self::Cache(e) => e.code(),
            Self::Loopback(e) => e.code(),
            Self::Random(e) => e.code(),
            Self::UserMismatch | Self::NoRefreshToken => ErrorCode::Internal,
            Self::NotSignedIn => ErrorCode::SessionExpired,
            Self::Cancelled => ErrorCode::LoginCancelled,
            Self::TimedOut => ErrorCode::LoginTimeout,
        }
    }
}

/// The account could not be opened.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientBuildError),
    /// No key could be had, not even an in-memory one.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl OpenError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Client(e) => e.code(),
            Self::Key(e) => e.code(),
        }
    }
}

/// The live session and a counter that changes with every refresh, so a
/// caller that saw -401 can tell whether someone refreshed meanwhile.
struct Live {
    record: SessionRecord,
    generation: u64,
}

/// The signed-in state of the app.
pub struct Account {
    config: Config,
    app_id: String,
    deep_link_scheme: String,
    lifetime: Duration,
    clock: Arc<dyn Clock>,
    kakao: KakaoClient,
    oidc: IdTokenVerifier,
    cache: Mutex<ProfileCache>,
    vault: Vault,
    session_key: SessionKey,
    /// `Some(error code)` when the keychain was unavailable and the session is
    /// kept in memory only.
    memory_only: Option<ErrorCode>,
    pending: Mutex<Option<PendingLogin>>,
    /// Bumped by every begin and cancel: a loopback wait that sees it change
    /// stops.
    login_epoch: watch::Sender<u64>,
    loopback: tokio::sync::Mutex<Option<LoopbackListener>>,
    session: RwLock<Option<Live>>,
    refresh_gate: tokio::sync::Mutex<()>,
    profile: Mutex<Option<CachedProfile>>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("app_id", &self.app_id)
            .field("memory_only", &self.memory_only)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Account {
    /// Opens the account: builds the HTTP client and gets the vault key.
    ///
    /// When the key source reports the keychain unavailable, the account keeps
    /// the session in memory only (a random key and memory slots) and
    /// [`Account::keychain_problem`] says so; nothing is written in plaintext.
    ///
    /// # Errors
    /// [`OpenError`] when the HTTP client cannot be built or the key source
    /// fails for another reason (a malformed key file, the RNG).
    pub fn open(parts: AccountParts) -> Result<Self, OpenError> {
        let kakao = KakaoClient::new(&parts.config, parts.client_options)?;
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
        let session_key = SessionKey::derive(vault.key(), &parts.app_id);
        Ok(Self {
            config: parts.config,
            app_id: parts.app_id,
            deep_link_scheme: parts.deep_link_scheme,
            lifetime: parts.session_lifetime,
            clock: parts.clock,
            kakao,
            oidc: IdTokenVerifier::new(),
            cache: Mutex::new(parts.cache),
            vault,
            session_key,
            memory_only,
            pending: Mutex::new(None),
            login_epoch: watch::Sender::new(0),
            loopback: tokio::sync::Mutex::new(None),
            session: RwLock::new(None),
            refresh_gate: tokio::sync::Mutex::new(()),
            profile: Mutex::new(None),
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

    /// Restores the session from the vault at start-up, without the network:
    /// opens the vault, validates the session JWT by the injected clock, and
    /// loads the cached profile. Returns the public profile, or `None` when no
    /// session was saved.
    ///
    /// # Errors
    /// `session_expired` when the session JWT expired or the vault did not
    /// open (it was moved aside; the cached profile stays for "continue as");
    /// `storage` when the vault or cache could not be read.
    pub async fn restore_session(&self) -> Result<Option<PublicProfile>, AccountError> {
        let Some(bytes) = self.vault.load()? else {
            return Ok(None);
        };
        let record = SessionRecord::from_bytes(&bytes)?;
        let now = self.clock.now();
        let claims = match validate(&self.session_key, &self.app_id, &record.session_jwt, now) {
            Ok(claims) => claims,
            Err(error) => {
                tracing::info!(%error, "the stored session is no longer valid; signing out locally");
                self.wipe_local_session().await?;
                return Err(error.into());
            }
        };
        if claims.sub != record.kakao_id.to_string() {
            self.wipe_local_session().await?;
            return Err(SessionError::InvalidToken.into());
        }
        if record.refresh_expires_at <= now && record.access_expires_at <= now {
            tracing::info!("both Kakao tokens expired; signing out locally");
            self.wipe_local_session().await?;
            return Err(SessionError::Expired.into());
        }
        let cached = lock(&self.cache).get(record.kakao_id)?;
        let public = cached.as_ref().map(CachedProfile::to_public);
        *lock(&self.profile) = cached;
        *self.session.write().await = Some(Live {
            record,
            generation: 0,
        });
        tracing::info!("session restored");
        Ok(public)
    }

    /// True while a session is live.
    pub async fn is_signed_in(&self) -> bool {
        self.session.read().await.is_some()
    }

    /// The signed-in user's cached profile (with thumbnail bytes), if any.
    pub fn current_profile(&self) -> Option<CachedProfile> {
        lock(&self.profile).clone()
    }

    /// The most recently signed-in account on this device, for "continue as
    /// \<nickname\>" after a sign-out or an expired session.
    ///
    /// # Errors
    /// `storage` when the cache cannot be read.
    pub fn last_account(&self) -> Result<Option<CachedProfile>, AccountError> {
        Ok(lock(&self.cache).most_recent()?)
    }

    /// Refreshes the access token if it expires within [`REFRESH_MARGIN`].
    /// Returns whether a refresh happened.
    ///
    /// # Errors
    /// `session_expired` when not signed in or Kakao refused the refresh
    /// token (the session is then wiped, the cached profile kept); `network`,
    /// `kakao_temporary`, `rate_limited` leave the session intact.
    pub async fn refresh_if_needed(&self) -> Result<bool, AccountError> {
        let (generation, soon) = {
            let guard = self.session.read().await;
            let live = guard.as_ref().ok_or(AccountError::NotSignedIn)?;
            (
                live.generation,
                live.record.access_expires_at <= self.clock.now() + REFRESH_MARGIN,
            )
        };
        if !soon {
            return Ok(false);
        }
        self.refresh_after(generation).await
    }

    /// Asks Kakao whether the access token is still good
    /// (`/v1/user/access_token_info`), refreshing once on -401.
    ///
    /// # Errors
    /// As [`Account::refresh_if_needed`], plus Kakao's errors.
    pub async fn check_session(&self) -> Result<AccessTokenInfo, AccountError> {
        self.with_token("access_token_info", |token| async move {
            self.kakao.access_token_info(&token).await
        })
        .await
    }

    /// Signs out: revokes the token at Kakao (`/v1/user/logout`), then wipes
    /// the local session even if Kakao failed. The cached profile stays.
    ///
    /// # Errors
    /// `storage` only when the local wipe failed; a Kakao failure is logged,
    /// not returned.
    pub async fn logout(&self) -> Result<(), AccountError> {
        let token = self
            .session
            .read()
            .await
            .as_ref()
            .map(|l| l.record.access_token.clone());
        if let Some(token) = token
            && let Err(error) = self.kakao.logout(&token).await
        {
            tracing::warn!(kakao_code = %error.kakao_code(), "Kakao logout failed; signing out locally anyway");
        }
        self.wipe_local_session().await?;
        tracing::info!("signed out");
        Ok(())
    }

    /// Unlinks the app from the Kakao account (`/v1/user/unlink`, refreshing
    /// once on -401). On success wipes the session and the cached profile; on
    /// failure keeps both.
    ///
    /// # Errors
    /// Kakao's error (nothing was wiped), or `storage` for the local wipe.
    pub async fn unlink(&self) -> Result<(), AccountError> {
        let id = self
            .session
            .read()
            .await
            .as_ref()
            .map(|l| l.record.kakao_id)
            .ok_or(AccountError::NotSignedIn)?;
        self.with_token(
            "unlink",
            |token| async move { self.kakao.unlink(&token).await },
        )
        .await?;
        self.wipe_local_session().await?;
        lock(&self.cache).delete(id)?;
        tracing::info!("unlinked; session and cached profile removed");
        Ok(())
    }

    /// Runs a kapi call with the current access token: refreshes first when
    /// the token is about to expire, and once after a -401; transient errors
    /// get one jittered retry.
    async fn with_token<T, F, Fut>(&self, what: &'static str, op: F) -> Result<T, AccountError>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: Future<Output = Result<T, KakaoError>>,
    {
        self.refresh_if_needed().await?;
        let (generation, token) = self.current_token().await?;
        match self.kakao.retry_once(what, || op(token.clone())).await {
            Err(error) if error.is_invalid_token() => {
                tracing::info!(what, "access token refused (-401); refreshing once");
                self.refresh_after(generation).await?;
                let (_, token) = self.current_token().await?;
                Ok(self.kakao.retry_once(what, || op(token.clone())).await?)
            }
            other => Ok(other?),
        }
    }

    async fn current_token(&self) -> Result<(u64, AccessToken), AccountError> {
        let guard = self.session.read().await;
        let live = guard.as_ref().ok_or(AccountError::NotSignedIn)?;
        Ok((live.generation, live.record.access_token.clone()))
    }

    /// Single-flight refresh: the first caller refreshes; callers that were
    /// waiting on the gate see the generation moved and return at once.
    async fn refresh_after(&self, seen_generation: u64) -> Result<bool, AccountError> {
        let _gate = self.refresh_gate.lock().await;
        let refresh_token = {
            let guard = self.session.read().await;
            let live = guard.as_ref().ok_or(AccountError::NotSignedIn)?;
            if live.generation != seen_generation {
                return Ok(true);
            }
            live.record.refresh_token.clone()
        };
        let result = self
            .kakao
            .retry_once("refresh", || self.kakao.refresh(&refresh_token))
            .await;
        let tokens = match result {
            Ok(tokens) => tokens,
            Err(error) if error.code() == ErrorCode::SessionExpired => {
                tracing::info!(kakao_code = %error.kakao_code(), "Kakao refused the refresh token; signing out");
                self.wipe_local_session().await?;
                return Err(error.into());
            }
            Err(error) => {
                tracing::warn!(kakao_code = %error.kakao_code(), "refresh failed; the session is kept");
                return Err(error.into());
            }
        };
        let mut guard = self.session.write().await;
        let live = guard.as_mut().ok_or(AccountError::NotSignedIn)?;
        let mut record = live.record.clone();
        record.apply_refresh(tokens, self.clock.now());
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

    async fn wipe_local_session(&self) -> Result<(), AccountError> {
        *self.session.write().await = None;
        *lock(&self.profile) = None;
        self.vault.clear()?;
        Ok(())
    }
}

//! Kakao, from the server's side: the login (code exchange as a
//! confidential client, id_token verification, `/v2/user/me`) and the calls
//! a session makes later with its Kakao tokens (profile, logout, unlink),
//! refreshed by Kakao's rules.
//!
//! The HTTP client, the id_token verifier (discovery and JWKS cached by
//! `kid`), the profile normalisation and the birthday rules are the core's,
//! the same code the app runs in direct mode.
//!
//! Kakao's tokens of a session are sealed in its row. A call answered -401
//! (or an access token past its expiry) refreshes them once for all
//! concurrent callers of that session: a lock per session in this process,
//! then the store's [`crate::store::Store::refresh_guard`] across instances
//! (PostgreSQL: an advisory lock), and the row's version: a caller that
//! finds the row changed since it read it uses the tokens stored meanwhile.
//! When Kakao's answer has no refresh token, the old one is kept.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use kakao_desk_core::clock::Clock;
use kakao_desk_core::config::{BaseUrl, Config, RedirectMode, RedirectUri};
use kakao_desk_core::kakao::{ClientOptions, KakaoClient, KakaoError, TokenSet};
use kakao_desk_core::oidc::{IdTokenVerifier, OidcError};
use kakao_desk_core::profile::{KakaoProfile, ProfileWarning};
use kakao_desk_core::secret::{
    AccessToken, AuthorizationCode, ClientSecret, Nonce, PkceVerifier, RefreshToken,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::seal::Sealer;
use crate::store::{Database, SessionRow, Store};

/// Kakao's refresh token lifetime (two months), for an answer that gives
/// the token without its lifetime.
const DEFAULT_REFRESH_SECS: u64 = 60 * 24 * 3600;

/// How the server reaches Kakao.
#[derive(Debug, Clone)]
pub struct KakaoSettings {
    /// The REST API key.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Option<ClientSecret>,
    /// kauth.
    pub auth_url: String,
    /// kapi.
    pub api_url: String,
    /// The id_token issuer (default: `auth_url`).
    pub issuer: Option<String>,
    /// Timeouts and retry pacing.
    pub options: ClientOptions,
}

/// Kakao's tokens of one session, as sealed in its row.
#[derive(Serialize, Deserialize)]
struct SealedTokens {
    access_token: String,
    access_expires_at: i64,
    refresh_token: String,
    refresh_expires_at: i64,
}

impl Drop for SealedTokens {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.access_token.zeroize();
        self.refresh_token.zeroize();
    }
}

/// A finished Kakao login.
#[derive(Debug)]
pub struct KakaoLogin {
    /// The normalised profile.
    pub profile: KakaoProfile,
    /// What normalisation left out, for the log.
    pub warnings: Vec<ProfileWarning>,
    sealed: Option<SealedTokens>,
}

impl std::fmt::Debug for SealedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedTokens(..)")
    }
}

impl KakaoLogin {
    /// Logs the login's fresh Kakao tokens out at Kakao: for a login the
    /// server then refuses (an email conflict), so that no token of it
    /// stays alive at Kakao.
    pub async fn revoke(&self, kakao: &Kakao) {
        let Some(tokens) = &self.sealed else { return };
        let access = AccessToken::new(tokens.access_token.as_str());
        if let Err(error) = kakao.client.logout(&access).await {
            tracing::info!(kakao_code = %error.kakao_code(), "could not revoke a refused login's Kakao tokens");
        }
    }

    /// Kakao's tokens sealed for the session `session_id`.
    ///
    /// # Errors
    /// An internal error if sealing fails.
    pub fn seal_for(&self, sealer: &Sealer, session_id: &str) -> Result<Vec<u8>, ApiError> {
        let tokens = self.sealed.as_ref().ok_or_else(ApiError::internal)?;
        seal(sealer, tokens, session_id)
    }
}

fn seal(sealer: &Sealer, tokens: &SealedTokens, session_id: &str) -> Result<Vec<u8>, ApiError> {
    let json = Zeroizing::new(serde_json::to_vec(tokens).map_err(|_| ApiError::internal())?);
    sealer
        .seal(&json, session_id.as_bytes())
        .map_err(|_| ApiError::internal())
}

fn open(sealer: &Sealer, row: &SessionRow) -> Result<SealedTokens, ApiError> {
    let json = sealer
        .open(&row.kakao_tokens, row.id.as_bytes())
        .map_err(|_| {
            tracing::error!("a session's Kakao tokens do not open with the sealing key");
            ApiError::internal()
        })?;
    serde_json::from_slice(&json).map_err(|_| ApiError::internal())
}

/// The server's Kakao client.
pub struct Kakao {
    client: KakaoClient,
    verifier: IdTokenVerifier,
    client_id: String,
    refreshing: std::sync::Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Kakao {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kakao")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// What a session call to Kakao needs.
#[derive(Debug, Clone, Copy)]
pub enum Call {
    /// `/v2/user/me`.
    UserMe,
    /// `/v1/user/logout`.
    Logout,
    /// `/v1/user/unlink`.
    Unlink,
}

/// The answer of a session call.
#[derive(Debug)]
pub enum Answer {
    /// `/v2/user/me`, normalised.
    Profile(Box<KakaoProfile>),
    /// Logout or unlink done.
    Done,
}

impl Kakao {
    /// A client for the Kakao app in `settings`.
    ///
    /// # Errors
    /// A URL that is not https (loopback excepted), or no TLS.
    pub fn new(settings: &KakaoSettings) -> Result<Self, String> {
        let auth =
            BaseUrl::parse("KDS_KAKAO_AUTH_URL", &settings.auth_url).map_err(|e| e.to_string())?;
        let api =
            BaseUrl::parse("KDS_KAKAO_API_URL", &settings.api_url).map_err(|e| e.to_string())?;
        let issuer = settings
            .issuer
            .clone()
            .unwrap_or_else(|| auth.url().as_str().trim_end_matches('/').to_owned());
        // The core's client reads the app's settings from a Config; the
        // redirect URI there is unused (each login names its own).
        let config = Config {
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            redirect_uri: RedirectUri::parse("https://localhost/unused")
                .map_err(|e| e.to_string())?,
            redirect_mode: RedirectMode::Bridge,
            auth_base_url: auth.clone(),
            api_base_url: api,
            scopes: Vec::new(),
            oidc: true,
            issuer: issuer.clone(),
            logout_redirect_uri: None,
            backend: None,
        };
        let client = KakaoClient::new(&config, settings.options).map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            verifier: IdTokenVerifier::with_issuer(auth, issuer),
            client_id: settings.client_id.clone(),
            refreshing: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Exchanges the app's code, verifies the id_token against `nonce`, and
    /// reads the user.
    ///
    /// # Errors
    /// The [`ApiError`] the app gets (a used or forged code, a bad id_token,
    /// Kakao unreachable or answering nonsense).
    pub async fn login(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
        redirect_uri: &RedirectUri,
        nonce: &Nonce,
        clock: &dyn Clock,
    ) -> Result<KakaoLogin, ApiError> {
        let tokens = self
            .client
            .exchange_code(code, verifier, redirect_uri)
            .await
            .map_err(ApiError::from_exchange)?;
        let id_token = tokens.id_token.as_ref().ok_or_else(|| {
            tracing::warn!("Kakao's token answer has no id_token (OpenID Connect off?)");
            ApiError::from_oidc(&OidcError::Missing)
        })?;
        let claims = self
            .verifier
            .verify(&self.client, id_token, &self.client_id, nonce, clock)
            .await
            .map_err(|e| ApiError::from_oidc(&e))?;
        let me = self
            .client
            .retry_once("user_me", || self.client.user_me(&tokens.access_token))
            .await
            .map_err(ApiError::from_kakao)?;
        if claims.sub != me.id.to_string() {
            tracing::warn!("the id_token and /v2/user/me name different users");
            return Err(ApiError::from_oidc(&OidcError::Invalid("sub")));
        }
        let (profile, warnings) = KakaoProfile::from_user_me(&me);
        let now = clock.unix_now();
        let sealed = sealed_tokens(&tokens, None, now).ok_or_else(|| {
            tracing::warn!("Kakao's code exchange answer has no refresh token");
            ApiError::kakao_bad_answer()
        })?;
        Ok(KakaoLogin {
            profile,
            warnings,
            sealed: Some(sealed),
        })
    }

    /// Makes `call` with the session's Kakao tokens, refreshing them first
    /// when the access token has expired and once more on -401.
    ///
    /// # Errors
    /// [`ApiError::session_ended`] when Kakao no longer knows the session's
    /// refresh token (the user unlinked at Kakao, or it expired); the
    /// mapped Kakao error otherwise.
    pub async fn call(
        &self,
        store: &Database,
        sealer: &Sealer,
        session: &SessionRow,
        call: Call,
        clock: &dyn Clock,
    ) -> Result<Answer, ApiError> {
        // Logout runs after the service session has ended.
        let allow_ended = matches!(call, Call::Logout);
        let mut row = session.clone();
        let mut tokens = open(sealer, &row)?;
        if tokens.access_expires_at <= clock.unix_now() {
            (row, tokens) = self.refresh(store, sealer, row, allow_ended, clock).await?;
        }
        match self.once(&tokens, call).await {
            Err(error) if error.is_invalid_token() => {
                (_, tokens) = self.refresh(store, sealer, row, allow_ended, clock).await?;
                self.once(&tokens, call).await.map_err(ApiError::from_kakao)
            }
            other => other.map_err(ApiError::from_kakao),
        }
    }

    async fn once(&self, tokens: &SealedTokens, call: Call) -> Result<Answer, KakaoError> {
        let access = AccessToken::new(tokens.access_token.as_str());
        match call {
            Call::UserMe => {
                let me = self
                    .client
                    .retry_once("user_me", || self.client.user_me(&access))
                    .await?;
                Ok(Answer::Profile(Box::new(KakaoProfile::from_user_me(&me).0)))
            }
            Call::Logout => self.client.logout(&access).await.map(|()| Answer::Done),
            Call::Unlink => self.client.unlink(&access).await.map(|()| Answer::Done),
        }
    }

    /// Refreshes the session's Kakao tokens, once for every concurrent
    /// caller: the first takes the session's lock (in this process, then
    /// the store's across instances) and refreshes, the rest wait for it and
    /// read what it stored. The refresh runs in a task of its own, so a
    /// request that is dropped (timeout, client gone) cannot split Kakao's
    /// answer from the write that keeps it.
    async fn refresh(
        &self,
        store: &Database,
        sealer: &Sealer,
        seen: SessionRow,
        allow_ended: bool,
        clock: &dyn Clock,
    ) -> Result<(SessionRow, SealedTokens), ApiError> {
        let held = self.lock_for(&seen.id).lock_owned().await;
        let (client, store, sealer) = (self.client.clone(), store.clone(), sealer.clone());
        let now = clock.unix_now();
        tokio::spawn(async move {
            let _held = held;
            refresh_locked(&client, &store, &sealer, seen, allow_ended, now).await
        })
        .await
        .map_err(|_| ApiError::internal())?
    }

    fn lock_for(&self, session: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .refreshing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(lock) = map.get(session).and_then(Weak::upgrade) {
            return lock;
        }
        // Forget locks nobody holds, so the map stays as small as the
        // number of refreshes in flight.
        map.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(session.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

async fn refresh_locked(
    client: &KakaoClient,
    store: &Database,
    sealer: &Sealer,
    seen: SessionRow,
    allow_ended: bool,
    now: i64,
) -> Result<(SessionRow, SealedTokens), ApiError> {
    let guard = store.refresh_guard(&seen.id).await?;
    let reread = || async {
        store
            .session(&seen.id)
            .await?
            .filter(|row| allow_ended || !row.ended)
            .ok_or_else(ApiError::session_ended)
    };
    let current = reread().await?;
    if current.kakao_version != seen.kakao_version {
        // Someone refreshed while this caller waited.
        guard.release().await;
        let tokens = open(sealer, &current)?;
        return Ok((current, tokens));
    }
    let old = open(sealer, &current)?;
    let refresh_token = RefreshToken::new(old.refresh_token.as_str());
    let answer = client
        .retry_once("refresh", || client.refresh(&refresh_token))
        .await;
    let tokens = match answer {
        Ok(tokens) => tokens,
        // KOE322: Kakao no longer knows the refresh token (expired, or the
        // user unlinked at Kakao), unless another refresh of this session
        // has just replaced it.
        Err(error) if error.code() == kakao_desk_core::ErrorCode::SessionExpired => {
            guard.release().await;
            let row = reread().await?;
            if row.kakao_version != current.kakao_version {
                let tokens = open(sealer, &row)?;
                return Ok((row, tokens));
            }
            tracing::info!(kakao_code = %error.kakao_code(), "Kakao refused the session's refresh token");
            return Err(ApiError::session_ended());
        }
        Err(error) => {
            guard.release().await;
            return Err(ApiError::from_kakao(error));
        }
    };
    let fresh = sealed_tokens(&tokens, Some(&old), now).ok_or_else(ApiError::kakao_bad_answer)?;
    let sealed = seal(sealer, &fresh, &current.id)?;
    let stored = store
        .replace_kakao_tokens(&current.id, current.kakao_version, sealed.clone())
        .await;
    guard.release().await;
    if stored? {
        tracing::debug!("refreshed a session's Kakao tokens");
        let row = SessionRow {
            kakao_tokens: sealed,
            kakao_version: current.kakao_version + 1,
            ..current
        };
        Ok((row, fresh))
    } else {
        // Another instance stored a refresh first (possible only without
        // the store's lock): use what it stored.
        let row = reread().await?;
        let tokens = open(sealer, &row)?;
        Ok((row, tokens))
    }
}

/// The tokens to seal from Kakao's answer: a refresh keeps the old refresh
/// token when Kakao sends none. `None` when a first exchange has none.
fn sealed_tokens(tokens: &TokenSet, old: Option<&SealedTokens>, now: i64) -> Option<SealedTokens> {
    let secs = |s: u64| i64::try_from(s).unwrap_or(i64::MAX);
    let (refresh_token, refresh_expires_at) = match (&tokens.refresh_token, old) {
        (Some(token), _) => (
            token.secret().to_owned(),
            now.saturating_add(secs(
                tokens
                    .refresh_token_expires_in
                    .unwrap_or(DEFAULT_REFRESH_SECS),
            )),
        ),
        (None, Some(old)) => (old.refresh_token.clone(), old.refresh_expires_at),
        (None, None) => return None,
    };
    Some(SealedTokens {
        access_token: tokens.access_token.secret().to_owned(),
        access_expires_at: now.saturating_add(secs(tokens.expires_in)),
        refresh_token,
        refresh_expires_at,
    })
}

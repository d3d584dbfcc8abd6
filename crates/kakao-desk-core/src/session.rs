//! The session: the app's own session JWT plus Kakao's tokens,
//! and the record sealed into the vault.
//!
//! The session JWT is HS256 with a key derived from the vault key by
//! HKDF-SHA256 ([RFC 5869]); the vault key is random and 256-bit, so no
//! password-based KDF is needed or used. `iss` is the app identifier, `sub` the
//! Kakao id, `sid` a random session id, `auth_time` the login, `exp` the end
//! of the session by [`SessionPolicy`]: it slides with use, never past the
//! Kakao refresh token's expiry nor the policy's limit after the login.
//! Validation uses the injected clock, so a session restored at start-up is
//! judged without the network.
//!
//! [RFC 5869]: https://www.rfc-editor.org/rfc/rfc5869

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use hkdf::Hkdf;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;
use zeroize::Zeroizing;

use crate::ErrorCode;
use crate::clock::{from_unix_seconds, unix_seconds};
use crate::kakao::TokenSet;
use crate::profile::KakaoId;
use crate::random::{self, RandomError};
use crate::secret::{AccessToken, IdToken, RefreshToken, SessionJwt, VaultKey};

/// The default idle session lifetime: a session not used for this long ends.
pub const DEFAULT_SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The default limit after the login, however often the session is used.
pub const DEFAULT_SESSION_MAX_AGE: Duration = Duration::from_secs(365 * 24 * 3600);

/// How long a session lasts. It slides with use: each restore at start-up
/// and each token refresh moves its end to `idle` from then, but never past
/// the Kakao refresh token's expiry (nothing could renew the session after
/// it) nor `max_age` after the login (the publisher's limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after its login at the latest.
    pub max_age: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: DEFAULT_SESSION_LIFETIME,
            max_age: DEFAULT_SESSION_MAX_AGE,
        }
    }
}

impl SessionPolicy {
    /// The end of a session used `now`, logged in at `login_at`, whose Kakao
    /// refresh token expires at `refresh_expires_at`.
    pub fn expiry(
        &self,
        login_at: SystemTime,
        now: SystemTime,
        refresh_expires_at: SystemTime,
    ) -> SystemTime {
        let idle = now.checked_add(self.idle).unwrap_or(now);
        let limit = login_at.checked_add(self.max_age).unwrap_or(login_at);
        idle.min(limit).min(refresh_expires_at)
    }
}
/// Refresh ahead when the access token expires within this margin
/// (`docs/kakao-api.md` §3.3).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// HKDF `info` of the session-JWT key: a distinct label keeps this key
/// independent of any other key derived from the vault key.
const JWT_KEY_INFO: &[u8] = b"kakao-desk session-jwt HS256 v1";
/// Version of the sealed record's layout.
const RECORD_VERSION: u32 = 1;

/// Why a session could not be minted, restored or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session JWT's `exp` has passed.
    #[error("the session has expired")]
    Expired,
    /// The session JWT is forged, for another app or user, or garbled.
    #[error("the session token is invalid")]
    InvalidToken,
    /// The sealed record could not be read.
    #[error("the stored session record is unreadable")]
    Corrupt,
    /// Minting failed (RNG or signing).
    #[error("the session could not be created")]
    Mint,
}

impl SessionError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Expired | Self::InvalidToken => ErrorCode::SessionExpired,
            Self::Corrupt => ErrorCode::Storage,
            Self::Mint => ErrorCode::Internal,
        }
    }
}

impl From<RandomError> for SessionError {
    fn from(_: RandomError) -> Self {
        Self::Mint
    }
}

/// The HS256 key of the session JWT, derived from the vault key.
pub struct SessionKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

impl SessionKey {
    /// HKDF-SHA256 ([RFC 5869 §2]) of the vault key, salted with the app
    /// identifier, with a fixed label as `info`.
    ///
    /// [RFC 5869 §2]: https://www.rfc-editor.org/rfc/rfc5869#section-2
    pub fn derive(vault_key: &VaultKey, app_id: &str) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(app_id.as_bytes()), vault_key.secret());
        let mut okm = Zeroizing::new([0_u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: cannot fail.
        let _ = hkdf.expand(JWT_KEY_INFO, okm.as_mut_slice());
        Self(okm)
    }
}

/// The claims of the session JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The app identifier.
    pub iss: String,
    /// The Kakao id, as a decimal string.
    pub sub: String,
    /// A random session id.
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// The login (Unix seconds), kept when the session slides. Sessions
    /// minted before it existed have none: their `iat` was the login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

impl SessionClaims {
    /// When the user logged in.
    pub fn login_at(&self) -> SystemTime {
        from_unix_seconds(self.auth_time.unwrap_or(self.iat))
    }
}

/// Mints a session JWT for `kakao_id`, valid for `lifetime` from `now`.
///
/// # Errors
/// [`SessionError::Mint`] when the RNG or the signer fails.
pub fn mint(
    key: &SessionKey,
    app_id: &str,
    kakao_id: KakaoId,
    lifetime: Duration,
    now: SystemTime,
) -> Result<(SessionJwt, SessionClaims), SessionError> {
    crate::jwt::install_crypto();
    let iat = unix_seconds(now);
    let claims = SessionClaims {
        iss: app_id.to_owned(),
        sub: kakao_id.to_string(),
        sid: random::token(16)?,
        iat,
        exp: iat.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)),
        auth_time: Some(iat),
    };
    Ok((sign(key, &claims)?, claims))
}

/// The same session (`sub`, `sid`, login time) with a new end `exp`, issued
/// `now`: how a session slides.
///
/// # Errors
/// [`SessionError::Mint`] when signing fails.
pub fn extend(
    key: &SessionKey,
    claims: &SessionClaims,
    exp: SystemTime,
    now: SystemTime,
) -> Result<(SessionJwt, SessionClaims), SessionError> {
    crate::jwt::install_crypto();
    let login = unix_seconds(claims.login_at());
    let extended = SessionClaims {
        iat: unix_seconds(now),
        exp: unix_seconds(exp),
        auth_time: Some(login),
        ..claims.clone()
    };
    Ok((sign(key, &extended)?, extended))
}

fn sign(key: &SessionKey, claims: &SessionClaims) -> Result<SessionJwt, SessionError> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&*key.0),
    )
    .map(SessionJwt::new)
    .map_err(|_| SessionError::Mint)
}

/// Validates a session JWT: HS256 under `key`, `iss` = `app_id`, `exp` after
/// `now` (the injected clock).
///
/// # Errors
/// [`SessionError::Expired`] or [`SessionError::InvalidToken`].
pub fn validate(
    key: &SessionKey,
    app_id: &str,
    token: &SessionJwt,
    now: SystemTime,
) -> Result<SessionClaims, SessionError> {
    crate::jwt::install_crypto();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[app_id]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::from(["exp", "iss", "sub"].map(str::to_owned));
    let claims = jsonwebtoken::decode::<SessionClaims>(
        token.secret(),
        &DecodingKey::from_secret(&*key.0),
        &validation,
    )
    .map_err(|_| SessionError::InvalidToken)?
    .claims;
    if claims.exp <= unix_seconds(now) {
        return Err(SessionError::Expired);
    }
    Ok(claims)
}

/// Everything the vault keeps about a signed-in user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The app's session JWT.
    pub session_jwt: SessionJwt,
    /// The Kakao id.
    pub kakao_id: KakaoId,
    /// Kakao's access token.
    pub access_token: AccessToken,
    /// When the access token expires (absolute).
    pub access_expires_at: SystemTime,
    /// Kakao's refresh token.
    pub refresh_token: RefreshToken,
    /// When the refresh token expires (absolute).
    pub refresh_expires_at: SystemTime,
    /// The latest id_token, if OIDC is on.
    pub id_token: Option<IdToken>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

#[derive(Serialize)]
struct RecordOut<'a> {
    v: u32,
    session_jwt: &'a str,
    kakao_id: String,
    access_token: &'a str,
    access_expires_at: i64,
    refresh_token: &'a str,
    refresh_expires_at: i64,
    id_token: Option<&'a str>,
    scopes: &'a [String],
}

#[derive(Deserialize)]
struct RecordIn {
    v: u32,
    session_jwt: String,
    kakao_id: String,
    access_token: String,
    access_expires_at: i64,
    refresh_token: String,
    refresh_expires_at: i64,
    id_token: Option<String>,
    scopes: Vec<String>,
}

/// `secs` after `now`; `now` itself when that would overflow the clock (the
/// token is then taken as expired, never a panic). Lifetimes are checked to be
/// believable when Kakao's answer is read.
fn after(now: SystemTime, secs: u64) -> SystemTime {
    now.checked_add(Duration::from_secs(secs)).unwrap_or(now)
}

impl SessionRecord {
    /// A new record from a code exchange. Kakao always returns a refresh
    /// token there; without one the record cannot be made.
    pub fn from_login(
        session_jwt: SessionJwt,
        kakao_id: KakaoId,
        tokens: TokenSet,
        now: SystemTime,
    ) -> Option<Self> {
        let refresh_token = tokens.refresh_token?;
        Some(Self {
            session_jwt,
            kakao_id,
            access_token: tokens.access_token,
            access_expires_at: after(now, tokens.expires_in),
            refresh_expires_at: after(now, tokens.refresh_token_expires_in.unwrap_or(0)),
            refresh_token,
            id_token: tokens.id_token,
            scopes: tokens.scope.unwrap_or_default(),
        })
    }

    /// Applies a refresh answer (`docs/kakao-api.md` §3.2, §9): a new access token and
    /// expiry; the refresh token and its expiry only when Kakao sent new ones
    /// (otherwise the old ones stay); the id_token and scopes only when sent.
    pub fn apply_refresh(&mut self, tokens: TokenSet, now: SystemTime) {
        self.access_token = tokens.access_token;
        self.access_expires_at = after(now, tokens.expires_in);
        if let Some(refresh) = tokens.refresh_token {
            self.refresh_token = refresh;
            if let Some(secs) = tokens.refresh_token_expires_in {
                self.refresh_expires_at = after(now, secs);
            }
        }
        if let Some(id_token) = tokens.id_token {
            self.id_token = Some(id_token);
        }
        if let Some(scopes) = tokens.scope {
            self.scopes = scopes;
        }
    }

    /// True when the access token expires within [`REFRESH_MARGIN`] of `now`.
    pub fn access_expires_soon(&self, now: SystemTime) -> bool {
        now + REFRESH_MARGIN >= self.access_expires_at
    }

    /// The explicit serialization of one account's session (versioned
    /// JSON): what a vault held before several accounts, and each entry of
    /// a [`SessionSet`] now.
    ///
    /// # Security
    /// The bytes hold every token in clear: only the vault may see them.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        // Serializing strings and integers into a Vec cannot fail.
        Zeroizing::new(serde_json::to_vec(&self.to_out()).unwrap_or_default())
    }

    fn to_out(&self) -> RecordOut<'_> {
        RecordOut {
            v: RECORD_VERSION,
            session_jwt: self.session_jwt.secret(),
            kakao_id: self.kakao_id.to_string(),
            access_token: self.access_token.secret(),
            access_expires_at: unix_seconds(self.access_expires_at),
            refresh_token: self.refresh_token.secret(),
            refresh_expires_at: unix_seconds(self.refresh_expires_at),
            id_token: self.id_token.as_ref().map(IdToken::secret),
            scopes: &self.scopes,
        }
    }

    /// Reads what [`SessionRecord::to_bytes`] wrote.
    ///
    /// # Errors
    /// [`SessionError::Corrupt`] for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionError> {
        let raw: RecordIn = serde_json::from_slice(bytes).map_err(|_| SessionError::Corrupt)?;
        Self::from_in(raw)
    }

    fn from_in(raw: RecordIn) -> Result<Self, SessionError> {
        if raw.v != RECORD_VERSION {
            return Err(SessionError::Corrupt);
        }
        Ok(Self {
            session_jwt: SessionJwt::new(raw.session_jwt),
            kakao_id: raw.kakao_id.parse().map_err(|_| SessionError::Corrupt)?,
            access_token: AccessToken::new(raw.access_token),
            access_expires_at: from_unix_seconds(raw.access_expires_at),
            refresh_token: RefreshToken::new(raw.refresh_token),
            refresh_expires_at: from_unix_seconds(raw.refresh_expires_at),
            id_token: raw.id_token.map(IdToken::new),
            scopes: raw.scopes,
        })
    }
}

/// Version of the sealed set of sessions (several accounts).
const SET_VERSION: u32 = 2;

/// The most accounts kept signed in on one device. A login past it signs
/// out, on this device only, the one used longest ago (its tokens expire at
/// Kakao as usual); the sealed set stays well under the vault's size cap.
pub const MAX_SIGNED_IN: usize = 20;

/// Everything the vault keeps: the session of each Kakao account signed in
/// on this device, most recently used first, and which one is in use.
///
/// One sealed record holds them all, so every change (a login, a switch, a
/// refresh, a removal) is a single vault write under the two-slot scheme:
/// the accounts and the pointer to the one in use can never disagree after a
/// crash.
#[derive(Debug, Clone, Default)]
pub struct SessionSet {
    /// The account in use, if any (none after it logged out while others
    /// stay signed in).
    pub active: Option<KakaoId>,
    /// The sessions, most recently used first; one per account.
    pub sessions: Vec<SessionRecord>,
}

/// Which layout [`SessionSet::from_bytes`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetFormat {
    /// The set written since several accounts.
    Current,
    /// One [`SessionRecord`] alone, as vaults held before several accounts:
    /// read as a set of that one account, in use.
    Single,
}

#[derive(Serialize)]
struct SetOut<'a> {
    v: u32,
    active: Option<String>,
    sessions: Vec<RecordOut<'a>>,
}

#[derive(Deserialize)]
struct SetIn {
    active: Option<String>,
    sessions: Vec<RecordIn>,
}

#[derive(Deserialize)]
struct Version {
    v: u32,
}

impl SessionSet {
    /// True when no account is signed in.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// The serialization sealed into the vault (versioned JSON).
    ///
    /// # Security
    /// The bytes hold every token in clear: only the vault may see them.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let out = SetOut {
            v: SET_VERSION,
            active: self.active.map(|id| id.to_string()),
            sessions: self.sessions.iter().map(SessionRecord::to_out).collect(),
        };
        // Sized up front so the buffer is not regrown while it holds
        // tokens (a regrowth would leave a copy in freed memory).
        let estimate: usize = self
            .sessions
            .iter()
            .map(|r| {
                r.session_jwt.secret().len()
                    + r.access_token.secret().len()
                    + r.refresh_token.secret().len()
                    + r.id_token.as_ref().map_or(0, |t| t.secret().len())
                    + r.scopes.iter().map(|s| s.len() + 3).sum::<usize>()
                    + 512
            })
            .sum();
        let mut bytes = Zeroizing::new(Vec::with_capacity(2 * estimate + 256));
        // Writing strings and integers into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *bytes, &out);
        bytes
    }

    /// Reads what [`SessionSet::to_bytes`] wrote, or a single record from
    /// before several accounts (then the set of that one account, in use).
    ///
    /// # Errors
    /// [`SessionError::Corrupt`] for anything else: an unknown version, an
    /// account twice, an active account without a session.
    pub fn from_bytes(bytes: &[u8]) -> Result<(Self, SetFormat), SessionError> {
        let version: Version = serde_json::from_slice(bytes).map_err(|_| SessionError::Corrupt)?;
        if version.v == RECORD_VERSION {
            let record = SessionRecord::from_bytes(bytes)?;
            let set = Self {
                active: Some(record.kakao_id),
                sessions: vec![record],
            };
            return Ok((set, SetFormat::Single));
        }
        if version.v != SET_VERSION {
            return Err(SessionError::Corrupt);
        }
        let raw: SetIn = serde_json::from_slice(bytes).map_err(|_| SessionError::Corrupt)?;
        let sessions = raw
            .sessions
            .into_iter()
            .map(SessionRecord::from_in)
            .collect::<Result<Vec<_>, _>>()?;
        let active = raw
            .active
            .map(|id| id.parse::<KakaoId>().map_err(|_| SessionError::Corrupt))
            .transpose()?;
        let mut ids: Vec<KakaoId> = sessions.iter().map(|r| r.kakao_id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != sessions.len()
            || active.is_some_and(|id| !sessions.iter().any(|r| r.kakao_id == id))
        {
            return Err(SessionError::Corrupt);
        }
        Ok((Self { active, sessions }, SetFormat::Current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::VAULT_KEY_LEN;

    const APP: &str = "dev.kakaodesk.desktop";

    fn key(byte: u8) -> SessionKey {
        SessionKey::derive(&VaultKey::from_bytes([byte; VAULT_KEY_LEN]), APP)
    }

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn a_minted_session_validates_until_its_absolute_expiry() {
        let id = KakaoId::new(1_376_016_924_426_111_111);
        let (jwt, claims) =
            mint(&key(1), APP, id, DEFAULT_SESSION_LIFETIME, at(1_000)).expect("mint");
        assert_eq!(
            claims.sub, "1376016924426111111",
            "sub is the exact 64-bit id as a string"
        );
        assert_eq!(
            claims.exp - claims.iat,
            30 * 24 * 3600,
            "30 days by default"
        );
        let back =
            validate(&key(1), APP, &jwt, at(1_000 + 29 * 24 * 3600)).expect("valid on day 29");
        assert_eq!(back, claims, "the claims survive the round trip");
        let late = validate(&key(1), APP, &jwt, from_unix_seconds(claims.exp));
        assert_eq!(
            late.err(),
            Some(SessionError::Expired),
            "expiry is absolute, by the injected clock"
        );
    }

    #[test]
    fn a_session_from_another_key_or_app_is_refused() {
        let (jwt, _) = mint(
            &key(1),
            APP,
            KakaoId::new(7),
            DEFAULT_SESSION_LIFETIME,
            at(0),
        )
        .expect("mint");
        assert_eq!(
            validate(&key(2), APP, &jwt, at(1)).err(),
            Some(SessionError::InvalidToken),
            "other vault key"
        );
        assert_eq!(
            validate(&key(1), "dev.kakaodesk.desktop.debug", &jwt, at(1)).err(),
            Some(SessionError::InvalidToken),
            "a debug build must not accept a release build's session"
        );
        let garbled = SessionJwt::new(format!("{}x", jwt.secret()));
        assert_eq!(
            validate(&key(1), APP, &garbled, at(1)).err(),
            Some(SessionError::InvalidToken)
        );
    }

    #[test]
    fn the_derived_key_depends_on_vault_key_and_app() {
        assert_ne!(
            *key(1).0,
            *key(2).0,
            "different vault keys give different JWT keys"
        );
        let other = SessionKey::derive(&VaultKey::from_bytes([1; VAULT_KEY_LEN]), "other.app");
        assert_ne!(
            *key(1).0,
            *other.0,
            "the app identifier salts the derivation"
        );
        assert_ne!(
            *key(1).0,
            [1; 32],
            "the JWT key is never the vault key itself"
        );
    }

    fn record() -> SessionRecord {
        SessionRecord {
            session_jwt: SessionJwt::new("jwt-1"),
            kakao_id: KakaoId::new(9_007_199_254_740_993),
            access_token: AccessToken::new("at-1"),
            access_expires_at: at(21_599),
            refresh_token: RefreshToken::new("rt-1"),
            refresh_expires_at: at(5_183_999),
            id_token: Some(IdToken::new("id-1")),
            scopes: vec!["openid".into(), "profile_nickname".into()],
        }
    }

    #[test]
    fn a_set_round_trips_and_reads_a_single_record_from_before() {
        let mut other = record();
        other.kakao_id = KakaoId::new(42);
        other.refresh_token = RefreshToken::new("rt-42");
        let set = SessionSet {
            active: Some(KakaoId::new(42)),
            sessions: vec![other, record()],
        };
        let (back, format) = SessionSet::from_bytes(&set.to_bytes()).expect("readable");
        assert_eq!(format, SetFormat::Current);
        assert_eq!(back.active, Some(KakaoId::new(42)));
        let ids: Vec<i64> = back.sessions.iter().map(|r| r.kakao_id.get()).collect();
        assert_eq!(ids, [42, 9_007_199_254_740_993], "order is kept");
        assert_eq!(back.sessions[0].refresh_token.secret(), "rt-42");

        let (single, format) = SessionSet::from_bytes(&record().to_bytes()).expect("old layout");
        assert_eq!(
            format,
            SetFormat::Single,
            "a vault from before several accounts"
        );
        assert_eq!(single.active, Some(KakaoId::new(9_007_199_254_740_993)));
        assert_eq!(single.sessions.len(), 1);
        assert_eq!(single.sessions[0].access_token.secret(), "at-1");
    }

    #[test]
    fn a_set_that_contradicts_itself_is_corrupt() {
        let twice = SessionSet {
            active: None,
            sessions: vec![record(), record()],
        };
        assert_eq!(
            SessionSet::from_bytes(&twice.to_bytes()).err(),
            Some(SessionError::Corrupt),
            "one session per account"
        );
        let dangling = SessionSet {
            active: Some(KakaoId::new(5)),
            sessions: vec![record()],
        };
        assert_eq!(
            SessionSet::from_bytes(&dangling.to_bytes()).err(),
            Some(SessionError::Corrupt),
            "the account in use has a session"
        );
        for bytes in [&b"{\"v\":3}"[..], b"[]", b"{\"v\":2,\"sessions\":{}}"] {
            assert_eq!(
                SessionSet::from_bytes(bytes).err(),
                Some(SessionError::Corrupt),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn the_record_round_trips_through_bytes() {
        let bytes = record().to_bytes();
        let back = SessionRecord::from_bytes(&bytes).expect("readable");
        assert_eq!(
            back.kakao_id,
            KakaoId::new(9_007_199_254_740_993),
            "2^53+1 survives exactly"
        );
        assert_eq!(back.access_token.secret(), "at-1");
        assert_eq!(back.refresh_token.secret(), "rt-1");
        assert_eq!(back.id_token.as_ref().map(IdToken::secret), Some("id-1"));
        assert_eq!(
            back.access_expires_at,
            at(21_599),
            "absolute expiry, not a duration"
        );
        assert_eq!(back.scopes, ["openid", "profile_nickname"]);
        assert_eq!(
            SessionRecord::from_bytes(b"{").err(),
            Some(SessionError::Corrupt)
        );
        let future = String::from_utf8(bytes.to_vec())
            .expect("utf-8")
            .replace("\"v\":1", "\"v\":2");
        assert_eq!(
            SessionRecord::from_bytes(future.as_bytes()).err(),
            Some(SessionError::Corrupt),
            "unknown layout"
        );
    }

    #[test]
    fn a_refresh_without_refresh_token_keeps_the_old_one() {
        let mut record = record();
        record.apply_refresh(
            TokenSet {
                access_token: AccessToken::new("at-2"),
                expires_in: 21_599,
                refresh_token: None,
                refresh_token_expires_in: None,
                id_token: None,
                scope: None,
            },
            at(20_000),
        );
        assert_eq!(
            record.access_token.secret(),
            "at-2",
            "the access token is replaced"
        );
        assert_eq!(record.access_expires_at, at(41_599), "its expiry moves");
        assert_eq!(
            record.refresh_token.secret(),
            "rt-1",
            "docs/kakao-api.md §3.2: keep the old refresh token"
        );
        assert_eq!(record.refresh_expires_at, at(5_183_999), "and its expiry");
        assert_eq!(
            record.id_token.as_ref().map(IdToken::secret),
            Some("id-1"),
            "id_token kept when absent"
        );
        assert_eq!(record.scopes.len(), 2, "scopes kept when absent");
    }

    #[test]
    fn lifetimes_that_overflow_the_clock_do_not_panic() {
        let huge = || TokenSet {
            access_token: AccessToken::new("at"),
            expires_in: u64::MAX,
            refresh_token: Some(RefreshToken::new("rt")),
            refresh_token_expires_in: Some(u64::MAX),
            id_token: None,
            scope: None,
        };
        let mut record =
            SessionRecord::from_login(SessionJwt::new("jwt"), KakaoId::new(1), huge(), at(10))
                .expect("a refresh token was given");
        assert_eq!(
            record.access_expires_at,
            at(10),
            "an expiry past the end of time is taken as expired, not a panic"
        );
        record.apply_refresh(huge(), at(20));
        assert_eq!(record.refresh_expires_at, at(20), "the same on refresh");
    }

    #[test]
    fn a_refresh_with_a_new_refresh_token_replaces_it() {
        let mut record = record();
        record.apply_refresh(
            TokenSet {
                access_token: AccessToken::new("at-2"),
                expires_in: 100,
                refresh_token: Some(RefreshToken::new("rt-2")),
                refresh_token_expires_in: Some(5_000_000),
                id_token: Some(IdToken::new("id-2")),
                scope: Some(vec!["openid".into()]),
            },
            at(10),
        );
        assert_eq!(
            record.refresh_token.secret(),
            "rt-2",
            "a rotated refresh token replaces the old"
        );
        assert_eq!(
            record.refresh_expires_at,
            at(5_000_010),
            "with its own expiry"
        );
        assert!(
            record.access_expires_soon(at(10)),
            "100 s left is inside the refresh margin"
        );
        assert!(
            !record.access_expires_soon(at(10) - REFRESH_MARGIN),
            "well before it is not"
        );
    }

    #[test]
    fn the_session_end_is_the_earliest_of_idle_limit_and_refresh_token() {
        let policy = SessionPolicy {
            idle: Duration::from_secs(30),
            max_age: Duration::from_secs(100),
        };
        let login = at(1_000);
        assert_eq!(
            policy.expiry(login, at(1_000), at(5_000)),
            at(1_030),
            "idle from the use"
        );
        assert_eq!(
            policy.expiry(login, at(1_050), at(5_000)),
            at(1_080),
            "it slides"
        );
        assert_eq!(
            policy.expiry(login, at(1_090), at(5_000)),
            at(1_100),
            "but not past the limit"
        );
        assert_eq!(
            policy.expiry(login, at(1_010), at(1_020)),
            at(1_020),
            "nor the refresh token"
        );
    }

    #[test]
    fn an_extended_session_keeps_its_id_and_login_time() {
        let id = KakaoId::new(7);
        let (jwt, claims) =
            mint(&key(1), APP, id, Duration::from_secs(60), at(1_000)).expect("mint");
        assert_eq!(claims.login_at(), at(1_000));
        let (longer, extended) = extend(&key(1), &claims, at(9_000), at(2_000)).expect("extend");
        assert_ne!(longer.secret(), jwt.secret());
        assert_eq!(extended.sid, claims.sid, "the same session");
        assert_eq!(extended.login_at(), at(1_000), "logged in when it was");
        let valid = validate(&key(1), APP, &longer, at(8_000)).expect("valid until its new end");
        assert_eq!(valid.exp, 9_000);
        // A JWT minted before `auth_time` existed: its `iat` was the login.
        let old = SessionClaims {
            auth_time: None,
            ..claims
        };
        assert_eq!(old.login_at(), at(1_000));
    }
}

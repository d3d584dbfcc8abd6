//! id_token verification ([OpenID Connect Core §3.1.3.7], `docs/kakao-api.md` §7).
//!
//! The expected issuer and the JWKS URL come from the discovery document at the
//! configured auth base URL, fetched once and cached. Keys are cached by `kid`;
//! an unknown `kid` (Kakao rotates keys) triggers one JWKS re-fetch, at most
//! once a minute by the injected clock, since Kakao blocks clients that fetch
//! too often. Only RS256 is accepted, whatever the token's header claims.
//!
//! [OpenID Connect Core §3.1.3.7]: https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use thiserror::Error;
use tokio::sync::Mutex;

use crate::ErrorCode;
use crate::clock::unix_seconds;
use crate::kakao::{Discovery, KakaoClient, KakaoError};
use crate::secret::{IdToken, Nonce};

/// The shortest interval between two JWKS fetches caused by unknown `kid`s.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Why an id_token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OidcError {
    /// Discovery or JWKS could not be fetched.
    #[error("could not fetch Kakao's OIDC metadata: {0}")]
    Fetch(#[from] KakaoError),
    /// Not a JWS, or a header without `kid`.
    #[error("the id_token is malformed")]
    Malformed,
    /// Signed with something other than RS256.
    #[error("the id_token is not signed with RS256")]
    Algorithm,
    /// No key with the token's `kid`, even after a re-fetch (or a re-fetch
    /// was refused by the once-a-minute limit).
    #[error("no signing key matches the id_token")]
    UnknownKey,
    /// The signature, issuer, audience or a required claim is wrong.
    #[error("the id_token failed verification: {0}")]
    Invalid(&'static str),
    /// `aud` is not this app's client id.
    #[error("the id_token was issued to another app")]
    Audience,
    /// `exp` has passed.
    #[error("the id_token has expired")]
    Expired,
    /// `nonce` missing or not the pending login's.
    #[error("the id_token nonce does not match the login")]
    NonceMismatch,
}

impl OidcError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Fetch(e) => e.code(),
            Self::Audience => ErrorCode::KakaoConfig,
            Self::Expired => ErrorCode::SessionExpired,
            // Replayed into another login: the same class as a wrong state.
            Self::NonceMismatch => ErrorCode::StateMismatch,
            // A forged or garbled token: never expected from Kakao.
            Self::Malformed | Self::Algorithm | Self::UnknownKey | Self::Invalid(_) => {
                ErrorCode::Internal
            }
        }
    }
}

/// The verified claims of an id_token. `nickname` and `picture` are what the
/// UI can paint before `/v2/user/me` answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IdClaims {
    /// The Kakao id, as a decimal string.
    pub sub: String,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issue time (Unix seconds).
    #[serde(default)]
    pub iat: i64,
    /// The nickname, with the nickname scope.
    #[serde(default)]
    pub nickname: Option<String>,
    /// The 110×110 thumbnail URL, with the profile-image scope.
    #[serde(default)]
    pub picture: Option<String>,
    /// The email, only when valid and verified.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

#[derive(Default)]
struct Cache {
    discovery: Option<Discovery>,
    keys: HashMap<String, DecodingKey>,
    last_jwks_fetch: Option<SystemTime>,
}

/// Verifies id_tokens, caching discovery and keys.
pub struct IdTokenVerifier {
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for IdTokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenVerifier").finish_non_exhaustive()
    }
}

impl Default for IdTokenVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl IdTokenVerifier {
    /// A verifier with empty caches.
    pub fn new() -> Self {
        crate::jwt::install_crypto();
        Self {
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Verifies `token`: RS256 signature by a key of the JWKS named in
    /// discovery, `iss` = discovery's issuer, `aud` = `client_id`, `exp` after
    /// `now`, `nonce` = the pending login's.
    ///
    /// # Errors
    /// An [`OidcError`].
    ///
    /// # Security
    /// The header's `alg` is not trusted: only RS256 keys and RS256
    /// validation are used, so neither `none` nor an HMAC-with-public-key
    /// confusion can pass.
    pub async fn verify(
        &self,
        client: &KakaoClient,
        token: &IdToken,
        client_id: &str,
        nonce: &Nonce,
        now: SystemTime,
    ) -> Result<IdClaims, OidcError> {
        let header =
            jsonwebtoken::decode_header(token.secret()).map_err(|_| OidcError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(OidcError::Algorithm);
        }
        let kid = header.kid.ok_or(OidcError::Malformed)?;
        let mut cache = self.cache.lock().await;
        if cache.discovery.is_none() {
            cache.discovery = Some(client.discovery().await?);
        }
        let jwks_uri = cache
            .discovery
            .as_ref()
            .and_then(|d| url::Url::parse(&d.jwks_uri).ok())
            .ok_or(OidcError::Malformed)?;
        if !cache.keys.contains_key(&kid) {
            let may_fetch = cache.last_jwks_fetch.is_none_or(|at| {
                now.duration_since(at).unwrap_or_default() >= JWKS_REFETCH_INTERVAL
            });
            if !may_fetch {
                tracing::warn!(
                    "id_token names an unknown key and the JWKS was fetched under a minute ago"
                );
                return Err(OidcError::UnknownKey);
            }
            let set = client.jwks(&jwks_uri).await?;
            cache.last_jwks_fetch = Some(now);
            cache.keys = rsa_keys(&set);
            tracing::debug!(keys = cache.keys.len(), "fetched Kakao's JWKS");
        }
        let key = cache.keys.get(&kid).ok_or(OidcError::UnknownKey)?;
        let issuer = cache
            .discovery
            .as_ref()
            .map(|d| d.issuer.clone())
            .unwrap_or_default();
        let claims = decode_claims(token, key, &issuer, client_id)?;
        drop(cache);
        if claims.exp <= unix_seconds(now) {
            return Err(OidcError::Expired);
        }
        match &claims.nonce {
            Some(claimed) if nonce.matches(claimed) => Ok(claims),
            _ => Err(OidcError::NonceMismatch),
        }
    }
}

fn decode_claims(
    token: &IdToken,
    key: &DecodingKey,
    issuer: &str,
    client_id: &str,
) -> Result<IdClaims, OidcError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = vec![Algorithm::RS256];
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    // Expiry is checked against the injected clock by the caller.
    validation.validate_exp = false;
    validation.required_spec_claims =
        HashSet::from(["exp", "iss", "aud", "sub"].map(str::to_owned));
    jsonwebtoken::decode::<IdClaims>(token.secret(), key, &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidAudience => OidcError::Audience,
                ErrorKind::InvalidIssuer => OidcError::Invalid("iss"),
                ErrorKind::InvalidSignature => OidcError::Invalid("signature"),
                ErrorKind::MissingRequiredClaim(_) => OidcError::Invalid("missing claim"),
                ErrorKind::InvalidAlgorithm => OidcError::Algorithm,
                _ => OidcError::Malformed,
            }
        })
}

/// The RSA signing keys of a JWKS, by `kid`. Keys for other algorithms or
/// uses, and keys without a `kid`, are skipped.
fn rsa_keys(set: &JwkSet) -> HashMap<String, DecodingKey> {
    set.keys
        .iter()
        .filter(|jwk| matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)))
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            match &jwk.algorithm {
                AlgorithmParameters::RSA(rsa) => DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
                    .ok()
                    .map(|k| (kid, k)),
                _ => None,
            }
        })
        .collect()
}

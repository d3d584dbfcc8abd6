//! id_token verification ([OpenID Connect Core §3.1.3.7], `docs/kakao-api.md`
//! §7).
//!
//! The discovery document is fetched once from the configured auth base URL
//! and trusted only as far as it agrees with it: its `issuer` must be that
//! base URL (Kakao's literal `https://kauth.kakao.com` in production) and its
//! `jwks_uri` must be on the same host. Keys are cached by `kid`; only RSA
//! signing keys (`use` absent or `sig`) are kept. An unknown `kid` (Kakao
//! rotates keys) triggers one JWKS re-fetch, at most once a minute by a
//! monotonic clock, since Kakao blocks clients that fetch too often. Only RS256
//! is accepted, whatever the token's header claims.
//!
//! The checks on a token with keys in hand are one pure function,
//! [`KeySet::verify`], which the fuzz target drives with a fixed JWKS.
//!
//! [OpenID Connect Core §3.1.3.7]: https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use thiserror::Error;
use tokio::sync::Mutex;

use crate::ErrorCode;
use crate::clock::{Clock, unix_seconds};
use crate::config::{BaseUrl, is_loopback_host};
use crate::kakao::{Discovery, KakaoClient, KakaoError};
use crate::secret::{IdToken, Nonce};

/// The shortest interval between two JWKS fetches caused by unknown `kid`s.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Clock skew allowed on `exp` and `iat` ([OpenID Connect Core §3.1.3.7]
/// leaves it to the client; a minute covers a desktop's drift).
///
/// [OpenID Connect Core §3.1.3.7]: https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
pub const LEEWAY: Duration = Duration::from_secs(60);

/// Why an id_token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum OidcError {
    /// Discovery or JWKS could not be fetched.
    #[error("could not fetch Kakao's OIDC metadata: {0}")]
    Fetch(#[from] KakaoError),
    /// The discovery document names another issuer than the configured auth
    /// host, or keys on another host.
    #[error("the OIDC discovery document does not belong to the configured Kakao host")]
    Discovery,
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
    /// OpenID Connect was asked for, but Kakao sent no id_token.
    #[error("Kakao sent no id_token although the login asked for openid")]
    Missing,
}

impl OidcError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Fetch(e) => e.code(),
            // The app's Kakao set-up (OIDC off in the console, a wrong host).
            Self::Audience | Self::Discovery | Self::Missing => ErrorCode::KakaoConfig,
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

/// `aud`: one client id, or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
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
    aud: Audience,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// The keys and issuer id_tokens are checked against.
pub struct KeySet {
    issuer: String,
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("issuer", &self.issuer)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeySet {
    /// The issuer of `discovery`, checked against the configured auth host,
    /// with no keys yet.
    ///
    /// # Errors
    /// [`OidcError::Discovery`] when `issuer` is not `auth_base` (trailing
    /// slash aside) or `jwks_uri` is not an https URL (http on loopback) on
    /// the same host and port.
    pub fn for_discovery(discovery: &Discovery, auth_base: &BaseUrl) -> Result<Self, OidcError> {
        Self::for_discovery_of(discovery, auth_base, auth_base.url().as_str())
    }

    /// [`KeySet::for_discovery`] for an issuer other than the auth base URL
    /// ([`crate::config::Config::issuer`]).
    ///
    /// # Errors
    /// As [`KeySet::for_discovery`], with `issuer` in place of `auth_base`.
    pub fn for_discovery_of(
        discovery: &Discovery,
        auth_base: &BaseUrl,
        issuer: &str,
    ) -> Result<Self, OidcError> {
        crate::jwt::install_crypto();
        let expected = issuer.trim_end_matches('/');
        if discovery.issuer.trim_end_matches('/') != expected {
            tracing::warn!("the discovery document names another issuer than the configured host");
            return Err(OidcError::Discovery);
        }
        jwks_url(discovery, auth_base)?;
        Ok(Self {
            issuer: discovery.issuer.clone(),
            keys: HashMap::new(),
        })
    }

    /// Replaces the keys with the RSA signing keys of `set`, by `kid`. Keys
    /// for other algorithms or uses, and keys without a `kid`, are skipped.
    pub fn replace_keys(&mut self, set: &JwkSet) {
        self.keys = set
            .keys
            .iter()
            .filter(|jwk| matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)))
            .filter(|jwk| {
                matches!(
                    jwk.common.public_key_use,
                    None | Some(PublicKeyUse::Signature)
                )
            })
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                match &jwk.algorithm {
                    AlgorithmParameters::RSA(rsa) => {
                        DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
                            .ok()
                            .map(|k| (kid, k))
                    }
                    _ => None,
                }
            })
            .collect();
    }

    /// Whether a key with this `kid` is held.
    pub fn has_key(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// Checks `token` with the keys held: RS256 signature by the key of its
    /// `kid`; `iss` = the issuer; `aud` = `client_id` (and `azp` =
    /// `client_id` when `aud` names several); `exp` after and `iat` not after
    /// `now`, each with [`LEEWAY`]; `nonce` = the pending login's.
    ///
    /// # Errors
    /// An [`OidcError`]; [`OidcError::UnknownKey`] when no key has the
    /// token's `kid` (the caller may re-fetch the keys once).
    ///
    /// # Security
    /// The header's `alg` is not trusted: only RS256 keys and RS256
    /// validation are used, so neither `none` nor an HMAC-with-public-key
    /// confusion can pass.
    pub fn verify(
        &self,
        token: &IdToken,
        client_id: &str,
        nonce: &Nonce,
        now: SystemTime,
    ) -> Result<IdClaims, OidcError> {
        let kid = token_kid(token)?;
        let key = self.keys.get(&kid).ok_or(OidcError::UnknownKey)?;
        let claims = decode_claims(token, key, &self.issuer, client_id)?;
        let leeway = i64::try_from(LEEWAY.as_secs()).unwrap_or(0);
        let now = unix_seconds(now);
        if claims.exp.saturating_add(leeway) <= now {
            return Err(OidcError::Expired);
        }
        if claims.iat > now.saturating_add(leeway) {
            return Err(OidcError::Invalid("iat is in the future"));
        }
        if let Audience::Many(audiences) = &claims.aud
            && audiences.len() > 1
            && claims.azp.as_deref() != Some(client_id)
        {
            return Err(OidcError::Invalid("azp"));
        }
        match &claims.nonce {
            Some(claimed) if nonce.matches(claimed) => Ok(claims),
            _ => Err(OidcError::NonceMismatch),
        }
    }
}

/// The token's `kid`, after checking that its header is an RS256 JWS header.
fn token_kid(token: &IdToken) -> Result<String, OidcError> {
    let header = jsonwebtoken::decode_header(token.secret()).map_err(|_| OidcError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(OidcError::Algorithm);
    }
    header.kid.ok_or(OidcError::Malformed)
}

/// `jwks_uri`, which must be on the configured auth host.
fn jwks_url(discovery: &Discovery, auth_base: &BaseUrl) -> Result<url::Url, OidcError> {
    let url = url::Url::parse(&discovery.jwks_uri).map_err(|_| OidcError::Discovery)?;
    let base = auth_base.url();
    let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(&url));
    if !secure
        || url.host() != base.host()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        tracing::warn!("the discovery document names keys on another host");
        return Err(OidcError::Discovery);
    }
    Ok(url)
}

#[derive(Default)]
struct Cache {
    keys: Option<KeySet>,
    jwks_url: Option<url::Url>,
    last_jwks_fetch: Option<Instant>,
}

/// Verifies id_tokens, caching discovery and keys.
pub struct IdTokenVerifier {
    auth_base: BaseUrl,
    issuer: String,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for IdTokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenVerifier").finish_non_exhaustive()
    }
}

impl IdTokenVerifier {
    /// A verifier with empty caches for tokens of the auth host `auth_base`.
    pub fn new(auth_base: BaseUrl) -> Self {
        let issuer = auth_base.url().as_str().to_owned();
        Self::with_issuer(auth_base, issuer)
    }

    /// A verifier for tokens whose issuer is `issuer` while discovery and
    /// keys come from `auth_base` ([`crate::config::Config::issuer`]).
    pub fn with_issuer(auth_base: BaseUrl, issuer: String) -> Self {
        crate::jwt::install_crypto();
        Self {
            auth_base,
            issuer,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Fetches discovery and the JWKS ahead of a token (while the user is
    /// still in the browser), so that verifying the login's id_token needs no
    /// round trip. Does nothing once they are known; a failure is only
    /// logged (verification fetches again). A JWKS fetch here counts
    /// against the once-a-minute limit like any other (`clock`'s monotonic
    /// time), so repeated logins cannot make the app hammer Kakao's keys.
    pub async fn prefetch(&self, client: &KakaoClient, clock: &dyn Clock) {
        let mut cache = self.cache.lock().await;
        if cache.keys.is_none() {
            let discovery = match client.discovery().await {
                Ok(discovery) => discovery,
                Err(error) => {
                    tracing::debug!(kakao_code = %error.kakao_code(), "could not fetch discovery ahead of the login");
                    return;
                }
            };
            let (Ok(url), Ok(keys)) = (
                jwks_url(&discovery, &self.auth_base),
                KeySet::for_discovery_of(&discovery, &self.auth_base, &self.issuer),
            ) else {
                // Verification says why, with the error the user sees.
                return;
            };
            cache.jwks_url = Some(url);
            cache.keys = Some(keys);
        }
        let empty = cache.keys.as_ref().is_some_and(|k| k.keys.is_empty());
        let now = clock.instant();
        let may_fetch = cache
            .last_jwks_fetch
            .is_none_or(|at| now.saturating_duration_since(at) >= JWKS_REFETCH_INTERVAL);
        if let (true, true, Some(url)) = (empty, may_fetch, cache.jwks_url.clone()) {
            // Counted once Kakao gave the keys, as in `verify`: a prefetch
            // dropped mid-request (the link came first) or refused leaves
            // verification its own fetch.
            match client.jwks(&url).await {
                Ok(set) => {
                    cache.last_jwks_fetch = Some(now);
                    if let Some(keys) = cache.keys.as_mut() {
                        keys.replace_keys(&set);
                        tracing::debug!(
                            keys = keys.keys.len(),
                            "fetched Kakao's JWKS ahead of the login"
                        );
                    }
                }
                Err(error) => {
                    tracing::debug!(kakao_code = %error.kakao_code(), "could not fetch the JWKS ahead of the login");
                }
            }
        }
    }

    /// Verifies `token` as [`KeySet::verify`] does, fetching discovery (once)
    /// and the JWKS (again on an unknown `kid`, at most once a minute by
    /// `clock`'s monotonic time) as needed.
    ///
    /// # Errors
    /// An [`OidcError`].
    pub async fn verify(
        &self,
        client: &KakaoClient,
        token: &IdToken,
        client_id: &str,
        nonce: &Nonce,
        clock: &dyn Clock,
    ) -> Result<IdClaims, OidcError> {
        let kid = token_kid(token)?;
        let mut cache = self.cache.lock().await;
        if cache.keys.is_none() {
            let discovery = client.discovery().await?;
            cache.jwks_url = Some(jwks_url(&discovery, &self.auth_base)?);
            cache.keys = Some(KeySet::for_discovery_of(
                &discovery,
                &self.auth_base,
                &self.issuer,
            )?);
        }
        let known = cache.keys.as_ref().is_some_and(|k| k.has_key(&kid));
        if !known {
            let now = clock.instant();
            let may_fetch = cache
                .last_jwks_fetch
                .is_none_or(|at| now.saturating_duration_since(at) >= JWKS_REFETCH_INTERVAL);
            if !may_fetch {
                tracing::warn!(
                    "id_token names an unknown key and the JWKS was fetched under a minute ago"
                );
                return Err(OidcError::UnknownKey);
            }
            let url = cache.jwks_url.clone().ok_or(OidcError::Discovery)?;
            let set = client.jwks(&url).await?;
            cache.last_jwks_fetch = Some(now);
            if let Some(keys) = cache.keys.as_mut() {
                keys.replace_keys(&set);
                tracing::debug!(keys = keys.keys.len(), "fetched Kakao's JWKS");
            }
        }
        let keys = cache.keys.as_ref().ok_or(OidcError::Discovery)?;
        keys.verify(token, client_id, nonce, clock.now())
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
    // Expiry and issue time are checked against the injected clock by the
    // caller.
    validation.validate_exp = false;
    validation.required_spec_claims =
        HashSet::from(["exp", "iat", "iss", "aud", "sub"].map(str::to_owned));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn base(raw: &str) -> BaseUrl {
        BaseUrl::parse("KAKAO_AUTH_BASE_URL", raw).expect("valid")
    }

    fn discovery(issuer: &str, jwks_uri: &str) -> Discovery {
        serde_json::from_value(serde_json::json!({"issuer": issuer, "jwks_uri": jwks_uri}))
            .expect("a discovery document")
    }

    #[test]
    fn discovery_must_belong_to_the_configured_host() {
        let kakao = base("https://kauth.kakao.com");
        assert!(
            KeySet::for_discovery(
                &discovery(
                    "https://kauth.kakao.com",
                    "https://kauth.kakao.com/.well-known/jwks.json"
                ),
                &kakao
            )
            .is_ok(),
            "Kakao's own document"
        );
        for (issuer, jwks, why) in [
            (
                "https://evil.example",
                "https://kauth.kakao.com/.well-known/jwks.json",
                "another issuer",
            ),
            (
                "https://kauth.kakao.com",
                "https://evil.example/jwks.json",
                "keys on another host",
            ),
            (
                "https://kauth.kakao.com",
                "http://kauth.kakao.com/.well-known/jwks.json",
                "keys over plain http",
            ),
            (
                "https://kauth.kakao.com",
                "https://kauth.kakao.com:8443/jwks.json",
                "keys on another port",
            ),
            ("https://kauth.kakao.com", "not a url", "no URL at all"),
        ] {
            assert_eq!(
                KeySet::for_discovery(&discovery(issuer, jwks), &kakao).err(),
                Some(OidcError::Discovery),
                "{why}: a discovery document must not pick the trusted issuer or keys"
            );
        }
        let emulator = base("http://127.0.0.1:4567");
        assert!(
            KeySet::for_discovery(
                &discovery(
                    "http://127.0.0.1:4567",
                    "http://127.0.0.1:4567/.well-known/jwks.json"
                ),
                &emulator
            )
            .is_ok(),
            "plain http is fine on loopback (the emulator)"
        );
    }

    /// A JWKS with one signing key and the same key marked for encryption.
    const JWKS: &str = r#"{"keys":[
        {"kid":"sig","kty":"RSA","alg":"RS256","use":"sig","e":"AQAB","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"},
        {"kid":"enc","kty":"RSA","use":"enc","e":"AQAB","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"},
        {"kid":"ec","kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    ]}"#;

    #[test]
    fn only_rsa_signing_keys_are_kept() {
        let kakao = base("https://kauth.kakao.com");
        let mut keys = KeySet::for_discovery(
            &discovery(
                "https://kauth.kakao.com",
                "https://kauth.kakao.com/.well-known/jwks.json",
            ),
            &kakao,
        )
        .expect("Kakao's document");
        keys.replace_keys(&serde_json::from_str(JWKS).expect("a JWKS"));
        assert!(keys.has_key("sig"), "an RSA key for signatures is kept");
        assert!(
            !keys.has_key("enc"),
            "a key published for encryption must not verify signatures"
        );
        assert!(!keys.has_key("ec"), "only RS256 is accepted");
    }
}

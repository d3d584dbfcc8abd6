//! The service's own tokens: EdDSA access JWTs and opaque refresh tokens.
//!
//! **Access tokens** are short-lived JWTs signed with Ed25519 (`alg: EdDSA`,
//! RFC 8037), `kid` in the header, `typ: at+jwt` (RFC 9068), claims `iss`
//! (the server's public URL), `aud`, `sub` (the service user id), `sid` (the
//! session), `iat`, `exp`. The public keys are at `/.well-known/jwks.json`.
//! Keys live in the database, their private halves sealed, so every
//! instance signs with the same key. A rotation adds a key and retires the
//! old one, which stays published and valid until every token it signed has
//! expired: nobody is signed out. Instances reload the key ring every minute
//! and when a token names a `kid` they do not know.
//!
//! **Refresh tokens** are 256 random bits (`kdr_` + base64url), stored only
//! as their SHA-256 (a token this long needs no slow hash: there is nothing
//! to guess). Each use rotates it; a second use of one ends its session
//! (see [`crate::store::Store::rotate_refresh`]).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use thiserror::Error;
use tokio::sync::Mutex;

use crate::seal::{SealError, Sealer};
use crate::store::{Database, Store, StoreError, StoredKey, UserId};

/// The refresh token prefix: greppable in a leak scan, and a quick refusal
/// of anything else.
pub const REFRESH_PREFIX: &str = "kdr_";

/// How often every instance reloads the key ring ([`crate::Server::serve`]).
pub const RELOAD_EVERY: Duration = Duration::from_secs(60);

/// Shortest wait between reloads caused by an unknown `kid`.
const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(5);

/// Clock skew allowed on `iat`.
const LEEWAY_SECS: i64 = 60;

/// An access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The server's public URL.
    pub iss: String,
    /// The audience (the app).
    pub aud: String,
    /// The service user id, as a decimal string.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token of this server (signature, issuer, audience, shape).
    #[error("the access token is not valid")]
    Invalid,
    /// A valid token past its expiry.
    #[error("the access token has expired")]
    Expired,
}

/// Why the key ring could not be loaded or changed.
#[derive(Debug, Error)]
pub enum KeyError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored private key does not open with the sealing key (a different
    /// KDS_SEALING_KEY_FILE than the one that made it).
    #[error("a signing key does not open with this sealing key")]
    Seal(#[from] SealError),
    /// ring could not make or read a key.
    #[error("Ed25519 key failure")]
    Crypto,
}

struct KeyRing {
    active_kid: String,
    active: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: Arc<str>,
}

/// Issues and verifies access tokens with the database's key ring.
pub struct Signer {
    store: Database,
    sealer: Sealer,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    ring: RwLock<Arc<KeyRing>>,
    last_reload: Mutex<Instant>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Loads the key ring, making the first key when there is none.
    ///
    /// # Errors
    /// [`KeyError`].
    pub async fn load(
        store: Database,
        sealer: Sealer,
        issuer: String,
        audience: String,
        access_ttl: Duration,
        now: i64,
    ) -> Result<Self, KeyError> {
        kakao_desk_core::install_jwt_crypto();
        let ring = read_ring(&store, &sealer, access_ttl, now).await?;
        Ok(Self {
            store,
            sealer,
            issuer,
            audience,
            access_ttl,
            ring: RwLock::new(Arc::new(ring)),
            last_reload: Mutex::new(Instant::now()),
        })
    }

    fn current(&self) -> Arc<KeyRing> {
        Arc::clone(
            &self
                .ring
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Reads the key ring again (a rotation by another instance, retired
    /// keys past their time): every [`RELOAD_EVERY`], and on an unknown
    /// `kid`.
    ///
    /// # Errors
    /// [`KeyError`].
    pub async fn reload(&self, now: i64) -> Result<(), KeyError> {
        let ring = read_ring(&self.store, &self.sealer, self.access_ttl, now).await?;
        *self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(ring);
        *self.last_reload.lock().await = Instant::now();
        Ok(())
    }

    /// The access token lifetime.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// A signed access token for `user` in `session`, issued `now`.
    ///
    /// # Errors
    /// [`KeyError::Crypto`] if signing fails.
    pub fn issue(&self, user: UserId, session: &str, now: i64) -> Result<String, KeyError> {
        let ring = self.current();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(ring.active_kid.clone());
        header.typ = Some("at+jwt".to_owned());
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.to_string(),
            sid: session.to_owned(),
            iat: now,
            exp: now.saturating_add(i64::try_from(self.access_ttl.as_secs()).unwrap_or(i64::MAX)),
        };
        jsonwebtoken::encode(&header, &claims, &ring.active).map_err(|_| KeyError::Crypto)
    }

    /// Verifies an access token at `now`.
    ///
    /// # Errors
    /// [`TokenError`].
    pub async fn verify(&self, token: &str, now: i64) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid);
        }
        let mut ring = self.current();
        if !ring.verifying.contains_key(&kid) {
            // Perhaps another instance rotated. One reload at a time, at
            // most every few seconds, however many forged kids arrive (and
            // whether or not the reload works).
            let may = {
                let mut last = self.last_reload.lock().await;
                let may = last.elapsed() >= UNKNOWN_KID_RELOAD;
                if may {
                    *last = Instant::now();
                }
                may
            };
            if may && self.reload(now).await.is_ok() {
                ring = self.current();
            }
        }
        let key = ring.verifying.get(&kid).ok_or(TokenError::Invalid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iat", "iss", "aud", "sub"]
            .map(str::to_owned)
            .into();
        let claims = jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.iat > now + LEEWAY_SECS {
            return Err(TokenError::Invalid);
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The JWKS document (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> Arc<str> {
        Arc::clone(&self.current().jwks)
    }
}

/// Makes a new signing key and retires the current one (`rotate-signing-key`).
///
/// # Errors
/// [`KeyError`].
pub async fn rotate(store: &Database, sealer: &Sealer, now: i64) -> Result<String, KeyError> {
    let key = new_key(sealer, now)?;
    let kid = key.kid.clone();
    store.add_signing_key(key).await?;
    Ok(kid)
}

fn new_key(sealer: &Sealer, now: i64) -> Result<StoredKey, KeyError> {
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Crypto)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyError::Crypto)?;
    let public = pair.public_key().as_ref().to_vec();
    let kid = thumbprint(&public);
    let private_key = sealer.seal(pkcs8.as_ref(), kid.as_bytes())?;
    Ok(StoredKey {
        kid,
        private_key,
        public_key: public,
        created_at: now,
        retired_at: None,
    })
}

/// The RFC 7638 JWK thumbprint of an Ed25519 public key: its `kid`.
fn thumbprint(public: &[u8]) -> String {
    let x = URL_SAFE_NO_PAD.encode(public);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

async fn read_ring(
    store: &Database,
    sealer: &Sealer,
    access_ttl: Duration,
    now: i64,
) -> Result<KeyRing, KeyError> {
    let ttl = i64::try_from(access_ttl.as_secs()).unwrap_or(i64::MAX);
    // A retired key is kept while a token it signed may still be valid: an
    // instance that has not reloaded yet signs with it for up to two reload
    // periods after the retirement, and its tokens live `ttl` more.
    let reloads = 2 * i64::try_from(RELOAD_EVERY.as_secs()).unwrap_or(60);
    let keep_after = now
        .saturating_sub(ttl)
        .saturating_sub(reloads)
        .saturating_sub(LEEWAY_SECS);
    store.drop_keys_retired_before(keep_after).await?;
    let mut keys = store.signing_keys().await?;
    if !keys.iter().any(|k| k.retired_at.is_none()) {
        store.add_signing_key(new_key(sealer, now)?).await?;
        keys = store.signing_keys().await?;
    }
    // The newest key not retired signs (two instances starting together on
    // an empty database may both add one: both are published).
    let active = keys
        .iter()
        .rev()
        .find(|k| k.retired_at.is_none())
        .ok_or(KeyError::Crypto)?;
    let pkcs8 = sealer.open(&active.private_key, active.kid.as_bytes())?;
    let mut verifying = HashMap::new();
    let mut published = Vec::new();
    for key in &keys {
        let x = URL_SAFE_NO_PAD.encode(&key.public_key);
        let decoding = DecodingKey::from_ed_components(&x).map_err(|_| KeyError::Crypto)?;
        verifying.insert(key.kid.clone(), decoding);
        published.push(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": x, "kid": key.kid, "alg": "EdDSA", "use": "sig",
        }));
    }
    Ok(KeyRing {
        active_kid: active.kid.clone(),
        active: EncodingKey::from_ed_der(&pkcs8),
        verifying,
        jwks: serde_json::json!({ "keys": published }).to_string().into(),
    })
}

/// A new refresh token and its hash.
///
/// # Errors
/// When the system random source fails.
pub fn new_refresh_token() -> Result<(zeroize::Zeroizing<String>, [u8; 32]), SealError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).map_err(|_| SealError::Random)?;
    let token = zeroize::Zeroizing::new(format!(
        "{REFRESH_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(bytes.as_ref())
    ));
    let hash = refresh_hash(&token);
    Ok((token, hash))
}

/// The stored form of a refresh token.
pub fn refresh_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `token` has the shape of one of ours (prefix, length, alphabet).
pub fn looks_like_refresh_token(token: &str) -> bool {
    token.strip_prefix(REFRESH_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A new session id: 128 random bits, base64url.
///
/// # Errors
/// When the system random source fails.
pub fn new_session_id() -> Result<String, SealError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| SealError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_shaped_and_hashed() {
        let (a, hash_a) = new_refresh_token().expect("random");
        let (b, _) = new_refresh_token().expect("random");
        assert_ne!(*a, *b);
        assert!(looks_like_refresh_token(&a), "{}", a.len());
        assert_eq!(refresh_hash(&a), hash_a);
        for junk in [
            "",
            "kdr_",
            "kdr_short",
            "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!looks_like_refresh_token(junk), "{junk}");
        }
        let mut changed = a.to_string();
        changed.replace_range(10..11, "!");
        assert!(!looks_like_refresh_token(&changed));
    }

    async fn signer(dir: &std::path::Path) -> Signer {
        let store = Database::open(&format!("sqlite:{}", dir.join("t.db").display()), 1)
            .await
            .expect("store");
        let sealer =
            crate::seal::SealingKey::from_bytes([3; 32]).sealer(crate::seal::Purpose::SigningKeys);
        Signer::load(
            store,
            sealer,
            "https://issuer.test".into(),
            "app".into(),
            Duration::from_secs(600),
            1_000_000,
        )
        .await
        .expect("signer")
    }

    fn forge(header: &serde_json::Value, claims: &serde_json::Value, signature: &str) -> String {
        format!(
            "{}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[tokio::test]
    async fn only_this_servers_eddsa_tokens_for_this_audience_verify() {
        let dir = tempfile::tempdir().expect("dir");
        let signer = signer(dir.path()).await;
        let now = 1_000_000;
        let token = signer.issue(7, "sid", now).expect("issue");
        let claims = signer.verify(&token, now).await.expect("valid");
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("7", "sid"));
        assert_eq!(
            signer.verify(&token, now + 600).await,
            Err(TokenError::Expired)
        );
        let (header, rest) = token.split_once('.').expect("jws");
        let (body, signature) = rest.split_once('.').expect("jws");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("b64")).expect("json");
        let body: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).expect("b64")).expect("json");
        let with = |field: &str, value: serde_json::Value| {
            let mut claims = body.clone();
            claims[field] = value;
            forge(&header, &claims, signature)
        };
        let mut none = header.clone();
        none["alg"] = "none".into();
        let mut hs = header.clone();
        hs["alg"] = "HS256".into();
        let mut other_kid = header.clone();
        other_kid["kid"] = "someone-elses-key".into();
        for (why, forged) in [
            ("another issuer", with("iss", "https://evil.test".into())),
            ("another audience", with("aud", "other-app".into())),
            ("another user", with("sub", "8".into())),
            ("alg none", forge(&none, &body, "")),
            ("alg HS256", forge(&hs, &body, signature)),
            ("an unknown kid", forge(&other_kid, &body, signature)),
        ] {
            assert_eq!(
                signer.verify(&forged, now).await,
                Err(TokenError::Invalid),
                "{why}"
            );
        }
        // Issued an hour in the future (a clock far off, or a forgery).
        let future = signer.issue(7, "sid", now + 3600).expect("issue");
        assert_eq!(signer.verify(&future, now).await, Err(TokenError::Invalid));
    }

    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of the A.2 public key.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .expect("x");
        assert_eq!(
            thumbprint(&x),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}

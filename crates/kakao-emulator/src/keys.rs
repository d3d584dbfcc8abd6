//! The RSA key that signs id_tokens, and its JWKS entry.
//!
//! The key is generated in memory once per process and never written anywhere:
//! committing a private key, even a test one, invites someone to mistake it for
//! a real secret, and generating per process keeps every run's tokens
//! unverifiable by anything but that run's JWKS.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// An RS256 signing key with its `kid`.
pub(crate) struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

static SHARED: OnceLock<Result<Arc<SigningKey>, String>> = OnceLock::new();

impl SigningKey {
    /// The process-wide key, generated on first use (a 2048-bit key takes a
    /// moment; sharing it keeps many in-process emulators cheap).
    pub(crate) fn shared() -> Result<Arc<SigningKey>, String> {
        SHARED
            .get_or_init(|| Self::generate().map(Arc::new))
            .clone()
    }

    fn generate() -> Result<Self, String> {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("RSA key generation failed: {e}"))?;
        let der = private
            .to_pkcs1_der()
            .map_err(|e| format!("RSA key encoding failed: {e}"))?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let decoding = DecodingKey::from_rsa_raw_components(
            &private.n().to_bytes_be(),
            &private.e().to_bytes_be(),
        );
        let n = private.n().to_bytes_be();
        let e = private.e().to_bytes_be();
        // Kakao's kids are 30 hex characters; derive ours from the modulus so
        // it is stable for the key and looks the same.
        let digest = Sha256::digest(&n);
        let kid: String = digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()[..30]
            .to_owned();
        let jwk = json!({
            "kid": kid,
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(&n),
            "e": URL_SAFE_NO_PAD.encode(&e),
        });
        Ok(Self {
            kid,
            encoding,
            decoding,
            jwk,
        })
    }

    /// The key's JWKS entry.
    pub(crate) fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `claims` as a compact JWS with header `{kid, typ:"JWT", alg:"RS256"}`.
    pub(crate) fn sign(&self, claims: &Value) -> Result<String, String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Checks the signature of a token this key signed and returns its
    /// claims. Time claims are left to the caller, who knows the emulated time.
    pub(crate) fn verify(&self, token: &str) -> Result<Value, String> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }
}
